import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { seedAppRepo } from "../../helpers/branch-fixture.js";
import { gitOk, lsRemote, revParse } from "../../helpers/git.js";

// The walls themselves are proved command by command in test/integration/environments/sandbox.test.ts;
// this proves the factory puts every process of a sandbox branch behind them.
describe("sandbox environments", () => {
  let cook: RunningCook;
  let work: string;
  let plainPath: string;

  before(async () => {
    cook = await startCook();
    ({ work } = await seedAppRepo(cook));
    const plain = await cook.cli(["branch", "create", "app", "plain", "--env=local", "--json"]);
    plainPath = (JSON.parse(plain.stdout) as { environment: { path: string } }).environment.path;
    writeFileSync(join(plainPath, "secret.txt"), "another environment's work\n");
  });
  after(() => cook?.stop());

  const inSandbox = (branch: string, script: string) => cook.cli(["branch", "exec", branch, "--", "bash", "-c", script]);

  it("runs commands under bubblewrap: its checkout, HOME and /tmp writable; the data dir, other environments and the host's home out of reach", async () => {
    const created = await cook.cli(["branch", "create", "app", "boxed", "--env=sandbox", "--json"]);
    assert.equal(created.code, 0, created.stderr);
    const { environment } = JSON.parse(created.stdout) as { environment: { path: string; backend: string; state: string } };
    assert.deepEqual([environment.backend, environment.state], ["sandbox", "ready"]);

    const allowed = await inSandbox("boxed", 'echo a > in-checkout.txt && echo b > "$HOME/h" && echo c > /tmp/t && id -u && cat README.md');
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.equal(allowed.stdout, "1000\n# app\n");
    assert.ok(existsSync(join(environment.path, "in-checkout.txt")));

    const hookSecret = join(cook.dataDir, "hook-secret");
    const attempts: Record<string, string> = {
      "read the hook secret": `cat ${hookSecret}`,
      "list the data dir": `ls ${join(cook.dataDir, "db")}`,
      "read another environment": `cat ${join(plainPath, "secret.txt")}`,
      "write another environment": `echo x > ${join(plainPath, "planted.txt")}`,
      "write the bare repo": `touch ${join(cook.dataDir, "repos", "app.git", "objects", "planted")}`,
      "write outside": "touch /usr/planted",
      "see into root's home": 'test -n "$(ls -A /root)"',
    };
    for (const [what, script] of Object.entries(attempts)) {
      const result = await inSandbox("boxed", script);
      assert.notEqual(result.code, 0, `${what} must fail inside the sandbox: ${result.stdout}`);
      if (what === "write another environment") assert.ok(!existsSync(join(plainPath, "planted.txt")));
      // Each wall is real: the same command in the local environment does what the sandbox refused.
      if (what !== "write outside") assert.equal((await inSandbox("plain", script)).code, 0, `${what} works outside the sandbox`);
    }
  });

  it("still commits and pushes its own branch to the forge, and runs cook, from inside", async () => {
    const pushed = await inSandbox("boxed", "echo s > s.txt && git add s.txt && git commit -qm s && git push -q origin boxed && git rev-parse HEAD && cook branch list --repo app >/dev/null && echo cook-ok");
    assert.equal(pushed.code, 0, pushed.stderr);
    const [head, cookOk] = pushed.stdout.trim().split("\n");
    assert.equal(cookOk, "cook-ok");
    assert.equal((await lsRemote(`${cook.url}/app.git`))["refs/heads/boxed"], head);
  });

  it("has no network at all with network = false in cook.toml, the forge included", async () => {
    await gitOk(["checkout", "--quiet", "-b", "offline-config", "main"], { cwd: work });
    writeFileSync(join(work, "cook.toml"), '[environment]\nbackend = "sandbox"\nnetwork = false\n');
    await gitOk(["add", "."], { cwd: work });
    await gitOk(["commit", "--quiet", "-m", "offline"], { cwd: work });
    await gitOk(["push", "--quiet", "origin", "offline-config"], { cwd: work });
    const created = await cook.cli(["branch", "create", "app", "offline", "--base=offline-config", "--json"]);
    assert.equal(created.code, 0, created.stderr);
    assert.equal((JSON.parse(created.stdout) as { environment: { backend: string } }).environment.backend, "sandbox", "cook.toml's backend is the default");
    const port = new URL(cook.url).port;
    const reach = `exec 3<>/dev/tcp/127.0.0.1/${port} && echo reached`;
    const offline = await inSandbox("offline", reach);
    assert.notEqual(offline.code, 0);
    assert.equal(offline.stdout, "");
    assert.equal((await inSandbox("boxed", reach)).stdout, "reached\n", "with the network on, the same connection works");
    assert.ok(await revParse(work, "HEAD"));
  });
});
