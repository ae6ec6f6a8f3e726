import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadServerConfig, systemConfigFile, type ServerConfig } from "../../../src/config/server-config.js";

describe("loadServerConfig", () => {
  let dir: string;
  let home: string;
  let seq = 0;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "cook-server-config-"));
    home = join(dir, "home");
    await mkdir(home);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  async function configFile(text: string): Promise<string> {
    const file = join(dir, `config-${++seq}.toml`);
    await writeFile(file, text);
    return file;
  }

  function problemsOf(run: () => unknown): string {
    try {
      run();
    } catch (err) {
      assert.equal((err as Error).name, "CookError");
      assert.equal((err as { code?: string }).code, "invalid");
      return (err as Error).message;
    }
    assert.fail("expected the config to be refused");
  }

  const fullFile = `
[server]
host = "0.0.0.0"
port = 8080
data_dir = "/srv/cook"

[auth]
required = true

[database]
url = "postgres://cook@db:5432/cook"

[nats]
url = "nats://nats:4222"

[log]
level = "debug"

[defaults]
branch = "trunk"
agent = "codex"
`;

  it("listens on 127.0.0.1:7420 and keeps data in $XDG_DATA_HOME/cook when nothing is configured", () => {
    assert.ok(!existsSync(systemConfigFile), `${systemConfigFile} exists on this machine and would be read`);
    const config = loadServerConfig({}, { HOME: home, XDG_DATA_HOME: join(dir, "xdg-data") });
    assert.deepEqual(coreSettings(config), {
      file: undefined,
      server: { host: "127.0.0.1", port: 7420, dataDir: join(dir, "xdg-data", "cook"), publicUrl: undefined, allowedHosts: [] },
      auth: { required: false },
      databaseUrl: undefined,
      natsUrl: undefined,
      log: { level: "info" },
      defaults: { branch: "main", agent: "claude" },
    });
  });

  it("keeps data in ~/.local/share/cook when XDG_DATA_HOME is not set", () => {
    const config = loadServerConfig({}, { HOME: home });
    assert.equal(config.server.dataDir, join(home, ".local", "share", "cook"));
  });

  it("reads every setting from the file named by --config", async () => {
    const file = await configFile(fullFile);
    const config = loadServerConfig({ config: file }, { HOME: home });
    assert.deepEqual(coreSettings(config), {
      file,
      server: { host: "0.0.0.0", port: 8080, dataDir: "/srv/cook", publicUrl: undefined, allowedHosts: [] },
      auth: { required: true },
      databaseUrl: "postgres://cook@db:5432/cook",
      natsUrl: "nats://nats:4222",
      log: { level: "debug" },
      defaults: { branch: "trunk", agent: "codex" },
    });
  });

  it("reads the file named by COOK_CONFIG, unless --config names another", async () => {
    const fromEnv = await configFile(`[server]\nport = 9001\n`);
    const fromFlag = await configFile(`[server]\nport = 9002\n`);

    const byEnv = loadServerConfig({}, { HOME: home, COOK_CONFIG: fromEnv });
    assert.equal(byEnv.file, fromEnv);
    assert.equal(byEnv.server.port, 9001);

    const byFlag = loadServerConfig({ config: fromFlag }, { HOME: home, COOK_CONFIG: fromEnv });
    assert.equal(byFlag.file, fromFlag);
    assert.equal(byFlag.server.port, 9002);
  });

  it("lets COOK_DATA_DIR, COOK_DATABASE_URL, COOK_NATS_URL and COOK_LOG_LEVEL override the file", async () => {
    const file = await configFile(fullFile);
    const config = loadServerConfig(
      { config: file },
      {
        HOME: home,
        COOK_DATA_DIR: join(dir, "env-data"),
        COOK_DATABASE_URL: "postgresql://env@127.0.0.1/env",
        COOK_NATS_URL: "nats://127.0.0.1:4333",
        COOK_LOG_LEVEL: "warn",
      },
    );
    assert.equal(config.server.dataDir, join(dir, "env-data"));
    assert.equal(config.databaseUrl, "postgresql://env@127.0.0.1/env");
    assert.equal(config.natsUrl, "nats://127.0.0.1:4333");
    assert.equal(config.log.level, "warn");
    assert.equal(config.server.port, 8080);
  });

  it("treats empty environment variables as unset", async () => {
    const file = await configFile(fullFile);
    const config = loadServerConfig(
      { config: file },
      { HOME: home, COOK_DATA_DIR: "", COOK_DATABASE_URL: "", COOK_NATS_URL: "", COOK_LOG_LEVEL: "" },
    );
    assert.equal(config.server.dataDir, "/srv/cook");
    assert.equal(config.databaseUrl, "postgres://cook@db:5432/cook");
    assert.equal(config.natsUrl, "nats://nats:4222");
    assert.equal(config.log.level, "debug");
  });

  it("lets --host and --port override the file and the defaults", async () => {
    const file = await configFile(fullFile);
    const config = loadServerConfig({ config: file, host: "::1", port: 0 }, { HOME: home });
    assert.equal(config.server.host, "::1");
    assert.equal(config.server.port, 0);
  });

  it("returns a frozen config", () => {
    const config = loadServerConfig({}, { HOME: home });
    assert.throws(() => {
      (config.server as { port: number }).port = 1;
    }, TypeError);
    assert.equal(config.server.port, 7420);
  });

  it("names the file, line and column of a TOML syntax error", async () => {
    const file = await configFile(`[server]\nport = = 8080\n`);
    const message = problemsOf(() => loadServerConfig({ config: file }, { HOME: home }));
    assert.match(message, new RegExp(`^${escape(file)}:2:\\d+: invalid TOML`));
  });

  it("names the file, the [section] key and the expected type of a value of the wrong type", async () => {
    const file = await configFile(`[server]\nport = "8080"\n\n[auth]\nrequired = "yes"\n`);
    const message = problemsOf(() => loadServerConfig({ config: file }, { HOME: home }));
    assert.ok(message.includes(`${file}: [server] port: expected an integer, got "8080"`), message);
    assert.ok(message.includes(`${file}: [auth] required: expected true or false, got "yes"`), message);
  });

  it("refuses values of the right type that make no sense, saying what was expected", async () => {
    const file = await configFile(`[server]\nport = 70000\n\n[database]\nurl = "mysql://db"\n\n[log]\nlevel = "loud"\n`);
    const message = problemsOf(() => loadServerConfig({ config: file }, { HOME: home }));
    assert.ok(message.includes(`${file}: [server] port: expected an integer from 0 to 65535, got 70000`), message);
    assert.ok(message.includes(`${file}: [database] url: expected a postgres:// URL, got "mysql://db"`), message);
    assert.ok(message.includes(`${file}: [log] level: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"`), message);
  });

  it("reads the folder of PostgreSQL's programs for the server Cook runs for environment databases, refusing a relative one", async () => {
    const good = await configFile(`[environments]\npostgres_bindir = "/usr/lib/postgresql/16/bin"\n`);
    assert.equal(loadServerConfig({ config: good }, { HOME: home }).environments.postgresBindir, "/usr/lib/postgresql/16/bin");
    const bad = await configFile(`[environments]\npostgres_bindir = "bin"\n`);
    const message = problemsOf(() => loadServerConfig({ config: bad }, { HOME: home }));
    assert.equal(message, `${bad}: [environments] postgres_bindir: expected an absolute folder path, e.g. /usr/lib/postgresql/16/bin, got "bin"`);
  });

  it("refuses unknown sections and keys, listing what is allowed", async () => {
    const file = await configFile(`[server]\nhots = "0.0.0.0"\n\n[databse]\nurl = "postgres://x"\n`);
    const message = problemsOf(() => loadServerConfig({ config: file }, { HOME: home }));
    assert.ok(message.includes(`${file}: [server] hots: unknown key (expected one of host, port, data_dir, public_url, allowed_hosts)`), message);
    assert.ok(message.includes(`${file}: unknown section [databse]`), message);
  });

  it("lists every problem of the file, the environment and the flags at once", async () => {
    const file = await configFile(`[server]\nport = "x"\nbogus = 1\n\n[nats]\nurl = "http://nats"\n`);
    const message = problemsOf(() =>
      loadServerConfig(
        { config: file, port: -1 },
        { HOME: home, COOK_DATABASE_URL: "mysql://db", COOK_NATS_URL: "localhost:4222", COOK_LOG_LEVEL: "loud" },
      ),
    );
    const problems = message.split("; ");
    assert.deepEqual(problems, [
      `${file}: [server] port: expected an integer, got "x"`,
      `${file}: [server] bogus: unknown key (expected one of host, port, data_dir, public_url, allowed_hosts)`,
      `${file}: [nats] url: expected a nats:// URL, got "http://nats"`,
      `COOK_DATABASE_URL: expected a postgres:// URL, got "mysql://db"`,
      `COOK_NATS_URL: expected a nats:// URL, got "localhost:4222"`,
      `COOK_LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"`,
      `--port: expected an integer from 0 to 65535, got -1`,
    ]);
  });

  it("refuses a config file that does not exist, naming it", () => {
    const missing = join(dir, "missing.toml");
    const message = problemsOf(() => loadServerConfig({}, { HOME: home, COOK_CONFIG: missing }));
    assert.equal(message, `cannot read config ${missing}: file not found`);
  });
});

/** The sections these tests are about; others (e.g. [forge]) are covered where they are used. */
function coreSettings(config: ServerConfig) {
  const { file, server, auth, databaseUrl, natsUrl, log, defaults } = config;
  return { file, server, auth, databaseUrl, natsUrl, log, defaults };
}

function escape(text: string): string {
  return text.replace(/[\\^$.|?*+()[\]{}]/g, (c) => `\\${c}`);
}
