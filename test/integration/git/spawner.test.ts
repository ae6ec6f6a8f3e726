import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { createGitSpawner, type GitSpawner, type SpawnedProcess } from "../../../src/git/spawner.js";
import { eventually } from "../../helpers/wait.js";

/** Everything a spawned process printed, and how it ended. */
function collect(spawned: SpawnedProcess): Promise<{ stdout: string; stderr: string; code: number | null; signal: string | null }> {
  let stdout = "";
  let stderr = "";
  spawned.stdout.on("data", (chunk: Buffer) => (stdout += chunk));
  spawned.stderr.on("data", (chunk: Buffer) => (stderr += chunk));
  spawned.stdin.on("error", () => {});
  return new Promise((resolve) => spawned.on("close", (code: number | null, signal: string | null) => resolve({ stdout, stderr, code, signal })));
}

/** The processes whose command line matches, as `pid args` lines. */
const processesLike = (pattern: RegExp) =>
  execFileSync("ps", ["-eo", "pid=,args="], { encoding: "utf8" })
    .split("\n")
    .filter((line) => pattern.test(line));

describe("the git spawner", () => {
  let spawner: GitSpawner;
  // The spawner holds nothing that keeps a process alive; a test's pending promise must not be alone.
  const keepAlive = setInterval(() => {}, 1000);
  before(() => (spawner = createGitSpawner()));
  after(async () => {
    await spawner.close();
    clearInterval(keepAlive);
  });

  it("runs a command with its stdin, stdout and stderr, and tells how it exited", async () => {
    const spawned = await spawner.spawn("sh", ["-c", "echo out; cat; echo err >&2; exit 3"], { env: { PATH: process.env.PATH } });
    const done = collect(spawned);
    spawned.stdin.end("from stdin\n");
    assert.deepEqual(await done, { stdout: "out\nfrom stdin\n", stderr: "err\n", code: 3, signal: null });
  });

  it("streams a large body through both ways, as a push and a clone do", async () => {
    const spawned = await spawner.spawn("git", ["hash-object", "--stdin"], { env: { PATH: process.env.PATH } });
    const done = collect(spawned);
    const body = Buffer.alloc(32 * 1024 * 1024, "x");
    spawned.stdin.end(body);
    const expected = execFileSync("git", ["hash-object", "--stdin"], { input: body, encoding: "utf8" });
    assert.deepEqual(await done, { stdout: expected, stderr: "", code: 0, signal: null });
  });

  it("kills what it started and everything that started, so no process is left behind", async () => {
    const marker = `cook-spawner-test-${process.pid}-${Date.now()}`;
    const spawned = await spawner.spawn("bash", ["-c", `sleep 300 & exec -a ${marker} sleep 301`], { env: { PATH: process.env.PATH } });
    const done = collect(spawned);
    await eventually(() => processesLike(new RegExp(marker)).length === 1 || undefined, 10_000, "the process to start");
    spawned.kill();
    assert.equal((await done).signal, "SIGKILL");
    await eventually(() => processesLike(new RegExp(marker)).length === 0 || undefined, 10_000, "the process to go");
  });

  it("ends a process in flight as killed when its spawner process dies, and starts another for the next", async () => {
    const spawned = await spawner.spawn("sleep", ["302"], { env: { PATH: process.env.PATH } });
    const done = collect(spawned);
    // One snapshot of pid, parent and command line: asking ps again per line races processes that end between the calls.
    const helper = execFileSync("ps", ["-eo", "pid=,ppid=,args="], { encoding: "utf8" })
      .split("\n")
      .map((line) => line.trim().split(/\s+/))
      .find(([, ppid, ...args]) => ppid === String(process.pid) && /spawner-process\.js/.test(args.join(" ")));
    assert.ok(helper, "the spawner process is a child of this one");
    process.kill(Number(helper[0]), "SIGKILL");
    assert.equal((await done).signal, "SIGKILL");
    const next = await spawner.spawn("echo", ["again"], { env: { PATH: process.env.PATH } });
    const again = collect(next);
    next.stdin.end();
    assert.equal((await again).stdout, "again\n");
  });
});
