import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { clientConfigFile, loadClientConfig } from "../../../src/config/client-config.js";

describe("loadClientConfig", () => {
  let dir: string;
  let seq = 0;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "cook-client-config-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  /** A fresh home whose ~/.config/cook/config.toml holds `text` (none when undefined). */
  async function homeWith(text?: string): Promise<{ HOME: string; file: string }> {
    const home = join(dir, `home-${++seq}`);
    const file = join(home, ".config", "cook", "config.toml");
    await mkdir(join(home, ".config", "cook"), { recursive: true });
    if (text !== undefined) await writeFile(file, text);
    return { HOME: home, file };
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

  it("talks to http://127.0.0.1:7420 without a token when nothing is configured", async () => {
    const { HOME } = await homeWith();
    assert.deepEqual(loadClientConfig({}, { HOME }), { serverUrl: "http://127.0.0.1:7420", token: undefined });
  });

  it("reads the server and token from ~/.config/cook/config.toml", async () => {
    const { HOME } = await homeWith(`[server]\nurl = "https://cook.example:8443"\ntoken = "secret-from-file"\n`);
    assert.deepEqual(loadClientConfig({}, { HOME }), { serverUrl: "https://cook.example:8443", token: "secret-from-file" });
  });

  it("reads $XDG_CONFIG_HOME/cook/config.toml when XDG_CONFIG_HOME is set", async () => {
    const { HOME } = await homeWith(`[server]\nurl = "http://from-home:1"\n`);
    const xdg = join(dir, `xdg-${++seq}`);
    await mkdir(join(xdg, "cook"), { recursive: true });
    await writeFile(join(xdg, "cook", "config.toml"), `[server]\nurl = "http://from-xdg:2"\n`);

    const env = { HOME, XDG_CONFIG_HOME: xdg };
    assert.equal(clientConfigFile(env), join(xdg, "cook", "config.toml"));
    assert.equal(loadClientConfig({}, env).serverUrl, "http://from-xdg:2");
  });

  it("prefers COOK_SERVER to the config file, and --server to COOK_SERVER", async () => {
    const { HOME } = await homeWith(`[server]\nurl = "http://from-file:1"\n`);
    assert.equal(loadClientConfig({}, { HOME, COOK_SERVER: "http://from-env:2" }).serverUrl, "http://from-env:2");
    assert.equal(loadClientConfig({ server: "http://from-flag:3" }, { HOME, COOK_SERVER: "http://from-env:2" }).serverUrl, "http://from-flag:3");
  });

  it("prefers COOK_TOKEN to the token in the config file", async () => {
    const { HOME } = await homeWith(`[server]\ntoken = "from-file"\n`);
    assert.equal(loadClientConfig({}, { HOME, COOK_TOKEN: "from-env" }).token, "from-env");
    assert.equal(loadClientConfig({}, { HOME, COOK_TOKEN: "" }).token, "from-file");
  });

  it("drops trailing slashes from the server URL", async () => {
    const { HOME } = await homeWith();
    assert.equal(loadClientConfig({}, { HOME, COOK_SERVER: "http://127.0.0.1:7420//" }).serverUrl, "http://127.0.0.1:7420");
  });

  it("returns a frozen config", async () => {
    const { HOME } = await homeWith();
    const config = loadClientConfig({}, { HOME });
    assert.throws(() => {
      (config as { token: string | undefined }).token = "stolen";
    }, TypeError);
    assert.equal(config.token, undefined);
  });

  it("names the file, line and column of a TOML syntax error", async () => {
    const { HOME, file } = await homeWith(`[server]\nurl = "http://x\n`);
    const message = problemsOf(() => loadClientConfig({}, { HOME }));
    assert.ok(message.startsWith(`${file}:2:`), message);
    assert.match(message, /invalid TOML/);
  });

  it("names the file, the [server] key and the expected type of a value of the wrong type", async () => {
    const { HOME, file } = await homeWith(`[server]\ntoken = 42\n`);
    const message = problemsOf(() => loadClientConfig({}, { HOME }));
    assert.equal(message, `${file}: [server] token: expected a string, got 42`);
  });

  it("refuses unknown sections and keys", async () => {
    const { HOME, file } = await homeWith(`[server]\nadress = "http://x"\n\n[client]\nurl = "http://x"\n`);
    const message = problemsOf(() => loadClientConfig({}, { HOME }));
    assert.deepEqual(message.split("; "), [
      `${file}: [server] adress: unknown key (expected one of url, token)`,
      `${file}: unknown section [client] (expected one of [server])`,
    ]);
  });

  it("refuses a server that is not an http(s) URL, listing every source that gives one", async () => {
    const { HOME, file } = await homeWith(`[server]\nurl = "ftp://cook"\n`);
    const message = problemsOf(() => loadClientConfig({ server: "cook.example" }, { HOME, COOK_SERVER: "nats://cook:4222" }));
    assert.deepEqual(message.split("; "), [
      `${file}: [server] url: expected an http:// or https:// URL, got "ftp://cook"`,
      `--server: expected an http:// or https:// URL, got "cook.example"`,
      `COOK_SERVER: expected an http:// or https:// URL, got "nats://cook:4222"`,
    ]);
  });
});
