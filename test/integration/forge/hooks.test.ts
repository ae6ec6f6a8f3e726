import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { describe, it } from "node:test";
import { packageRoot } from "../../../src/config/package-root.js";
import pg from "pg";
import { startCook } from "../../helpers/cook.js";
import { createTestDatabase } from "../../helpers/database.js";
import { eventually } from "../../helpers/wait.js";
import { git, gitOk, makeWorkRepo, tempDir } from "../../helpers/git.js";

describe("repo hooks", () => {
  it("keep the hook secret off every command line while a push is checked and recorded", async () => {
    // The post-receive hook waits for the server to record the push; with the events table locked
    // it waits as long as the test likes, so every process's command line (what `ps` shows any
    // user of the machine) can be read while it runs.
    const database = await createTestDatabase();
    const cook = await startCook({ env: { COOK_DATABASE_URL: database.url } });
    const locker = new pg.Client({ connectionString: database.url });
    await locker.connect();
    try {
      assert.equal((await cook.cli(["repo", "add", "quiet"])).code, 0);
      const work = await makeWorkRepo([{ "a.txt": "a" }]);
      await locker.query("BEGIN");
      await locker.query("LOCK TABLE events IN ACCESS EXCLUSIVE MODE");
      const pushed = gitOk(["push", "--quiet", `${cook.url}/quiet.git`, "main", "main:refs/heads/side"], { cwd: work });
      const commandLines = () =>
        readdirSync("/proc")
          .filter((entry) => /^\d+$/.test(entry))
          .map((pid) => {
            try {
              return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
            } catch {
              return ""; // the process ended while we looked
            }
          });
      const seen = await eventually(() => {
        const lines = commandLines();
        return lines.some((line) => line.includes("hooks/post-receive")) ? lines : undefined;
      }, 20_000, "the post-receive hook, waiting for the server");
      await locker.query("COMMIT");
      await pushed;

      const secret = readFileSync(join(cook.dataDir, "hook-secret"), "utf8").trim();
      assert.ok(seen.some((line) => line.includes("receive-pack")), "git receive-pack was running too");
      assert.deepEqual(seen.filter((line) => line.includes(secret)), []);
    } finally {
      await locker.end();
      await cook.stop();
      await database.drop();
    }
  });

  it("are restored at server start when a repo's copy was changed, and go on enforcing policy", async () => {
    const cook = await startCook();
    assert.equal((await cook.cli(["repo", "add", "kept"])).code, 0);
    const hook = join(cook.dataDir, "repos", "kept.git", "hooks", "pre-receive");
    writeFileSync(hook, "#!/bin/sh\nexit 0\n"); // a hook that would let anything through
    assert.equal(await cook.stop(), 0);

    const restarted = await startCook({ env: { COOK_DATA_DIR: cook.dataDir } });
    try {
      assert.equal(readFileSync(hook, "utf8"), readFileSync(join(packageRoot(), "hooks", "pre-receive"), "utf8"));
      const work = await makeWorkRepo([{ "a.txt": "a" }]);
      await gitOk(["push", "--quiet", `${restarted.url}/kept.git`, "main"], { cwd: work });
      await gitOk(["commit", "--quiet", "--allow-empty", "-m", "direct"], { cwd: work });
      const refused = await git(["push", `${restarted.url}/kept.git`, "main"], { cwd: work });
      assert.match(refused.stderr, /remote: cook: branch 'main' is protected/);
    } finally {
      await restarted.stop();
    }
  });

  it("take the server's answer as complete at its Content-Length, not when the server closes the connection", async () => {
    // A server that answers and then keeps the connection open, as Cook's may while it goes on
    // with what the push set off (publishing its events): the hook must not wait for it.
    const answers: Array<[string, string]> = [["HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", ""], ["HTTP/1.0 403 Forbidden\r\nContent-Length: 24\r\n\r\ncook: no, not this one\n\n", "cook: no, not this one\n\n"]];
    for (const [answer, shown] of answers) {
      const held: Socket[] = [];
      const server = createServer((socket) => {
        held.push(socket);
        socket.once("data", () => socket.write(answer));
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      try {
        const started = Date.now();
        // Not spawnSync: the server above answers from this very event loop. git gives a hook its
        // ref lines on a pipe; a file does as well (a socket, Node's "pipe", would not: /dev/stdin
        // cannot be opened on one).
        const lines = join(tempDir(), "ref-lines");
        writeFileSync(lines, `${"0".repeat(40)} ${"1".repeat(40)} refs/heads/x\n`);
        const stdin = openSync(lines, "r");
        const hook = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
          const child = spawn("bash", [join(packageRoot(), "hooks", "pre-receive")], {
            env: { PATH: process.env.PATH, COOK_HOOK_URL: `http://127.0.0.1:${(server.address() as { port: number }).port}`, COOK_HOOK_SECRET: "s", COOK_REPO: "r", COOK_PUSHER: "{}" },
            stdio: [stdin, "ignore", "pipe"],
            timeout: 10_000,
          });
          let stderr = "";
          child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk));
          child.on("close", (status) => resolve({ status, stderr }));
        });
        closeSync(stdin);
        assert.ok(Date.now() - started < 5000, `the hook took ${Date.now() - started} ms`);
        assert.equal(hook.status, shown ? 1 : 0, hook.stderr);
        assert.equal(hook.stderr, shown);
      } finally {
        for (const socket of held) socket.destroy();
        await new Promise((resolve) => server.close(resolve));
      }
    }
  });
});
