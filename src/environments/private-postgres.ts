import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { CookError } from "../core/errors.js";

const run = promisify(execFile);

/** A PostgreSQL server of Cook's own, in a folder of the data dir, listening on 127.0.0.1 only. */
export interface PrivatePostgres {
  /** Its superuser `cook`, with the password only Cook knows, on the `postgres` database. */
  readonly adminUrl: string;
  readonly port: number;
  /** The port it listened on before, when that one was taken by another program at this start and it had to move. */
  readonly movedFrom: number | undefined;
  /** Fast shutdown (open sessions end, data is checkpointed); resolves once the server has exited. */
  stop(): Promise<void>;
}

// The folder's files: the cluster (PGDATA), the superuser's password, the port it last listened on, and the server's log.
const files = { data: "data", password: "admin-password", port: "port", log: "server.log" };

/**
 * Starts the server whose cluster is `<dir>/data`, making the cluster first when there is none
 * (initdb: UTF-8, scram-sha-256 for every connection, no unix socket); a server left running by
 * an earlier Cook that was killed is taken over as it is. It keeps its port across starts; only
 * when another program holds that port does it move (`movedFrom`). Throws CookError "unavailable"
 * saying what to install or set when there are no PostgreSQL server programs or they cannot run.
 */
export async function startPrivatePostgres(dir: string, options: { bindir?: string } = {}): Promise<PrivatePostgres> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const data = join(dir, files.data);
  const bindir = await chooseBindir(options.bindir, majorOfCluster(data));
  const prefix = await serverUserPrefix();
  if (!existsSync(join(data, "PG_VERSION"))) await makeCluster(dir, bindir, prefix);
  const password = readFileSync(join(dir, files.password), "utf8").trim();
  const urlOf = (port: number) => `postgres://cook:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;

  const recorded = Number(readText(join(dir, files.port))) || undefined;
  const left = await findLeftRunning(data, urlOf);
  if (left) return handle(data, left.pid, left.port, urlOf(left.port), recorded !== undefined && recorded !== left.port ? recorded : undefined);

  const port = recorded !== undefined && (await isFree(recorded)) ? recorded : await freePort();
  const pid = await startServer(dir, bindir, prefix, port, urlOf(port));
  writeFileSync(join(dir, files.port), `${port}\n`);
  return handle(data, pid, port, urlOf(port), recorded !== undefined && recorded !== port ? recorded : undefined);
}

function handle(data: string, pid: number, port: number, adminUrl: string, movedFrom: number | undefined): PrivatePostgres {
  return {
    adminUrl,
    port,
    movedFrom,
    async stop() {
      if (!signal(pid, "SIGINT")) return;
      // The postmaster removes postmaster.pid as it exits; the pid alone is not enough, since a
      // server taken over from an earlier Cook is no child of this one and may linger as a zombie.
      const gone = () => !existsSync(join(data, "postmaster.pid")) || !signal(pid, 0);
      if (await waitFor(gone, 30_000)) return;
      signal(pid, "SIGQUIT");
      await waitFor(gone, 5_000);
    },
  };
}

/** The folders that may hold initdb and postgres, most likely first. */
async function candidateBindirs(): Promise<string[]> {
  const found: string[] = [];
  const pgConfig = await run("pg_config", ["--bindir"], { timeout: 5000 }).then((r) => r.stdout.trim(), () => "");
  if (pgConfig) found.push(pgConfig);
  // Debian and Ubuntu (/usr/lib/postgresql/<major>/bin), the PostgreSQL RPMs (/usr/pgsql-<major>/bin): newest first.
  for (const [root, pattern] of [["/usr/lib/postgresql", /^(\d+)$/], ["/usr", /^pgsql-(\d+)$/]] as const) {
    const versions = readdirOrEmpty(root).filter((name) => pattern.test(name));
    versions.sort((a, b) => Number(pattern.exec(b)![1]) - Number(pattern.exec(a)![1]));
    found.push(...versions.map((name) => join(root, name, "bin")));
  }
  // Fedora, Arch and Homebrew put them on the usual PATH; a source build in /usr/local/pgsql.
  found.push("/usr/bin", "/usr/local/bin", "/opt/homebrew/bin", "/usr/local/pgsql/bin");
  return [...new Set(found)].filter(hasServerPrograms);
}

const hasServerPrograms = (bindir: string) => existsSync(join(bindir, "initdb")) && existsSync(join(bindir, "postgres"));

const install =
  "install them (Debian/Ubuntu: apt-get install postgresql; Fedora: dnf install postgresql-server; macOS: brew install postgresql) or set [environments] postgres_bindir to the folder that has them";

async function chooseBindir(configured: string | undefined, clusterMajor: number | undefined): Promise<string> {
  if (configured !== undefined && !hasServerPrograms(configured)) {
    throw new CookError("unavailable", `[environments] postgres_bindir ${configured} has no initdb and postgres programs`);
  }
  const candidates = configured !== undefined ? [configured] : await candidateBindirs();
  if (candidates.length === 0) throw new CookError("unavailable", `no PostgreSQL server programs (initdb, postgres) were found; ${install}`);
  if (clusterMajor === undefined) return candidates[0]!;
  // A cluster runs only under the major version that made it.
  for (const bindir of candidates) if ((await majorOfPrograms(bindir)) === clusterMajor) return bindir;
  throw new CookError("unavailable", `the environment databases' cluster was made by PostgreSQL ${clusterMajor}, whose server programs were not found; install them (or move the cluster with pg_upgrade)`);
}

async function majorOfPrograms(bindir: string): Promise<number | undefined> {
  const said = await run(join(bindir, "postgres"), ["--version"], { timeout: 5000 }).then((r) => r.stdout, () => "");
  const major = /\(PostgreSQL\) (\d+)/.exec(said)?.[1];
  return major ? Number(major) : undefined;
}

function majorOfCluster(data: string): number | undefined {
  return Number(readText(join(data, "PG_VERSION"))) || undefined;
}

let serverUser: Promise<string[]> | undefined;

/**
 * What goes before initdb and postgres on the command line. Both refuse to run as root. As root,
 * they run as uid 65534 (nobody) inside a user namespace whose one uid maps to root outside: the
 * cluster is root's files under the data dir wherever that is (a dedicated account could not reach
 * a data dir under /root), and the server holds no capabilities. The environments' roles are no
 * superusers, so they cannot use the server's file access.
 */
function serverUserPrefix(): Promise<string[]> {
  serverUser ??= (async () => {
    if (process.getuid?.() !== 0) return [];
    const prefix = ["unshare", "--user", "--map-user=65534", "--map-group=65534"];
    await run(prefix[0]!, [...prefix.slice(1), "true"], { timeout: 5000 }).catch((err: { stderr?: string; message: string }) => {
      serverUser = undefined;
      const said = err.stderr?.trim().split("\n")[0] || err.message;
      throw new CookError("unavailable", `PostgreSQL refuses to run as root, and Cook runs as root but cannot start it in a user namespace (${said}); run cook serve as another user`);
    });
    return prefix;
  })();
  return serverUser;
}

async function makeCluster(dir: string, bindir: string, prefix: string[]): Promise<void> {
  const passwordFile = join(dir, files.password);
  if (!existsSync(passwordFile)) writeFileSync(passwordFile, `${randomBytes(24).toString("base64url")}\n`, { mode: 0o600 });
  // Made aside and renamed, so a cluster that initdb did not finish is never taken for one.
  const making = join(dir, `${files.data}.new`);
  const initdb = (locale: string) => {
    rmSync(making, { recursive: true, force: true });
    const [file, ...args] = [...prefix, join(bindir, "initdb"), "-D", making, "-U", "cook", `--pwfile=${passwordFile}`, "--auth=scram-sha-256", "--encoding=UTF8", `--locale=${locale}`];
    return run(file!, args, { timeout: 120_000 });
  };
  // C.UTF-8 where the C library has it (glibc 2.35+, Debian, Fedora): byte order, but upper() and
  // lower() know letters beyond ASCII. Plain C elsewhere.
  await initdb("C.UTF-8").catch(() => initdb("C")).catch((err: { stderr?: string; message: string }) => {
    throw new CookError("unavailable", `initdb could not make the environment databases' cluster in ${making}: ${lastLines(err.stderr || err.message)}`);
  });
  renameSync(making, join(dir, files.data));
}

/** A server an earlier Cook left running on this cluster (it was killed): its pid and port, if it answers to this cluster's password. */
async function findLeftRunning(data: string, urlOf: (port: number) => string): Promise<{ pid: number; port: number } | undefined> {
  const lines = readText(join(data, "postmaster.pid")).split("\n");
  const [pid, port] = [Number(lines[0]), Number(lines[3])];
  if (!pid || !port || !signal(pid, 0)) return undefined;
  if (await answers(urlOf(port))) return { pid, port };
  // After a reboot the pid may be some other program's; postgres would refuse to start while it lives.
  const comm = readText(`/proc/${pid}/comm`).trim();
  if (comm !== "" && comm !== "postgres") rmSync(join(data, "postmaster.pid"), { force: true });
  return undefined;
}

async function startServer(dir: string, bindir: string, prefix: string[], port: number, adminUrl: string): Promise<number> {
  const [file, ...args] = [...prefix, join(bindir, "postgres"), "-D", join(dir, files.data), "-c", `port=${port}`, "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="];
  const logFile = join(dir, files.log);
  const log = openSync(logFile, "a", 0o600);
  const logSize = readText(logFile).length;
  // Detached: its own session, so a Ctrl-C meant for cook serve does not reach it (Cook stops it
  // itself), and a Cook that dies leaves it running for the next one to take over.
  const child = spawn(file!, args, { detached: true, stdio: ["ignore", log, log] });
  closeSync(log);
  child.unref();
  let exited = false;
  child.once("exit", () => (exited = true));
  child.once("error", () => (exited = true));
  const ready = await waitFor(async () => exited || (await answers(adminUrl)), 60_000);
  if (!ready || exited) {
    if (!exited) child.kill("SIGQUIT");
    const said = lastLines(readText(logFile).slice(logSize)) || "it did not say why";
    throw new CookError("unavailable", `PostgreSQL for environment databases did not start (log ${logFile}): ${said}`);
  }
  return Number(readText(join(dir, files.data, "postmaster.pid")).split("\n")[0]) || child.pid!;
}

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Sends `sig` (0: only asks whether the process exists); false when there is no such process. */
function signal(pid: number, sig: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function waitFor(done: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

function readdirOrEmpty(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

function lastLines(text: string): string {
  return text.trim().split("\n").slice(-3).join(" / ");
}
