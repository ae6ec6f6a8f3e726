import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packageRoot } from "../../src/config/package-root.js";
import { templateDatabaseName } from "./database.js";

export const cookBin = join(packageRoot(), "dist", "src", "cli", "main.js");

/** The environment a child cook process gets: the machine's, minus any COOK_* the developer has set. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith("COOK_")) env[key] = value;
  env.COOK_LOG_LEVEL = "warn";
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `cook` CLI, as another user when `uid`/`gid` are given (the test must run as root). */
export function runCli(args: string[], options: { env?: Record<string, string | undefined>; input?: string; timeoutMs?: number; uid?: number; gid?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cookBin, ...args], { env: cleanEnv(options.env), stdio: ["pipe", "pipe", "pipe"], uid: options.uid, gid: options.gid });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`cook ${args.join(" ")} did not finish in time; stderr: ${stderr}`));
    }, options.timeoutMs ?? 20_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on("error", () => {}); // the command may exit without reading its input
    child.stdin.end(options.input ?? "");
  });
}

// A PGlite data dir takes seconds of CPU to initialise; tests copy one made earlier instead. Its
// name changes with the migrations, so a copy never lacks one (a skipped migration is silent).
const pgliteTemplate = join(tmpdir(), `cook-test-pglite-${process.version}-${templateDatabaseName().slice(-16)}`);

/**
 * Makes the embedded database every seeded test server starts from, once. scripts/run-tests.mjs
 * calls it before the test files start, so they do not each initialise one at the same time.
 */
export async function preparePgliteTemplate(): Promise<void> {
  if (!existsSync(join(pgliteTemplate, "db"))) {
    const building = mkdtempSync(join(tmpdir(), "cook-pglite-build-"));
    const server = await startCook({ env: { COOK_DATA_DIR: building }, seed: false });
    await server.stop();
    rmSync(join(building, "serve.pid"), { force: true });
    try {
      renameSync(building, pgliteTemplate);
    } catch {
      rmSync(building, { recursive: true, force: true }); // another test file built it first
    }
  }
}

async function seedDataDir(dataDir: string): Promise<void> {
  await preparePgliteTemplate();
  cpSync(join(pgliteTemplate, "db"), join(dataDir, "db"), { recursive: true });
}

export interface RunningCook {
  url: string;
  dataDir: string;
  child: ChildProcess;
  /** Everything the server printed so far. */
  output(): string;
  /** Sends a signal and waits for the exit; resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** Runs the CLI against this server. */
  cli(args: string[], options?: { env?: Record<string, string | undefined>; input?: string }): Promise<CliResult>;
}

export interface StartOptions {
  /** Extra environment (COOK_DATABASE_URL, COOK_NATS_URL …); COOK_DATA_DIR defaults to a new temp dir. */
  env?: Record<string, string | undefined>;
  /** Contents of a config file passed with --config. */
  config?: string;
  args?: string[];
  /** Start from a copy of an initialised embedded database (default true). */
  seed?: boolean;
}

/** Starts a real `cook serve` on a spare port and waits until it listens. */
export async function startCook(options: StartOptions = {}): Promise<RunningCook> {
  const dataDir = options.env?.COOK_DATA_DIR ?? mkdtempSync(join(tmpdir(), "cook-test-"));
  // A seeded copy shares its instance id (the NATS message-id prefix) with every other copy, so not with NATS.
  if (options.seed !== false && !options.env?.COOK_DATABASE_URL && !options.env?.COOK_NATS_URL && !existsSync(join(dataDir, "db"))) await seedDataDir(dataDir);
  const args = [cookBin, "serve", "--port", "0", ...(options.args ?? [])];
  if (options.config !== undefined) {
    const file = join(dataDir, "..", `${dataDir.split("/").pop()}.toml`);
    writeFileSync(file, options.config);
    args.push("--config", file);
  }
  // A HOME of its own: the shells and agents of its environments must not run this machine's
  // dotfiles (pyenv's rehash lock, left by a shell a test killed, made every later shell wait 60 s).
  const env = cleanEnv({ COOK_LOG_LEVEL: "info", HOME: mkdtempSync(join(tmpdir(), "cook-home-")), ...options.env, COOK_DATA_DIR: dataDir });
  const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cook serve did not start in 60 s:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk;
      const match = /"url":"(http:\/\/[^"]+)"[^\n]*"msg":"listening"/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`cook serve exited with ${code} before listening:\n${output}`));
    });
  });

  return {
    url,
    dataDir,
    child,
    output: () => output,
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    cli: (cliArgs, cliOptions = {}) => runCli(cliArgs, { ...cliOptions, env: { COOK_SERVER: url, ...cliOptions.env } }),
  };
}
