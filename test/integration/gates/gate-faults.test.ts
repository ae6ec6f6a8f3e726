import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { gitOk, lsRemote, tempDir } from "../../helpers/git.js";
import { branchGates, eventsOf, pushBranch, runReaching, seedRepo } from "../../helpers/gates.js";
import { eventually } from "../../helpers/wait.js";

const alive = (pid: number) => existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, "utf8").split(" ")[2]!.startsWith("Z");

/** A server on `dataDir` that SIGKILLs itself at `failpoint` (gates/failpoints.ts). */
const startWith = (dataDir: string, failpoint?: string) => startCook({ env: { COOK_DATA_DIR: dataDir, COOK_FAILPOINT: failpoint } });

async function killedAt(cook: RunningCook, what: Promise<unknown>): Promise<void> {
  await what.catch(() => undefined);
  const code = await cook.stop();
  assert.equal(code, null, "the server died by its signal");
  assert.equal(cook.child.signalCode, "SIGKILL");
}

describe("a server killed mid-gate and mid-merge", () => {
  it("mid-gate: on restart the run is interrupted, its process killed, and the gates run again", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "cook-test-"));
    const scratch = tempDir("cook-gate-scratch-");
    let cook = await startWith(dataDir, "gate:attempt-started");
    const work = await seedRepo(cook, "app", { "cook.toml": `[[gates]]\nname = "ci"\ncommand = "echo $$ >> ${scratch}/pids; sleep 2"\n` });
    const head = await pushBranch(work, "feature", { "a.txt": "a\n" });
    await killedAt(cook, eventually(() => cook.child.exitCode !== null || cook.child.signalCode !== null, 20_000, "the server to die"));
    await eventually(() => existsSync(join(scratch, "pids")), 5000, "the gate to have started");
    const orphan = Number(readFileSync(join(scratch, "pids"), "utf8").trim().split("\n")[0]);
    cook = await startWith(dataDir);
    try {
      const rerun = await runReaching(cook, "feature", ["passed"], { head, reason: "restart", timeoutMs: 30_000 });
      assert.equal(rerun.state, "passed");
      const runs = (await branchGates(cook, "feature")).runs;
      const first = runs.find((r) => r.reason === "push")!;
      assert.equal(first.state, "interrupted");
      assert.equal(first.results[0]!.state, "interrupted");
      assert.ok(!alive(orphan), "the killed server's gate process is gone");
      const canceled = await eventsOf(cook, "cook.gate.app.feature.ci.canceled");
      assert.equal(canceled.length, 1);
      assert.equal(canceled[0]!.data.run, first.id);
    } finally {
      await cook.stop();
    }
  });

  for (const [failpoint, landed] of [["merge:intent-recorded", false], ["merge:ref-moved", true]] as const) {
    it(`${failpoint}: on restart main, the merge record, the branch and the events agree`, async () => {
      const dataDir = mkdtempSync(join(tmpdir(), "cook-test-"));
      let cook = await startWith(dataDir, failpoint);
      const work = await seedRepo(cook, "app", { "cook.toml": '[[gates]]\nname = "ci"\ncommand = "true"\n' });
      const before = (await lsRemote(`${cook.url}/app.git`))["refs/heads/main"]!;
      const head = await pushBranch(work, "feature", { "a.txt": "a\n" });
      await runReaching(cook, "feature", ["passed"], { head });
      await killedAt(cook, cook.cli(["branch", "merge", "app/feature"]));
      cook = await startWith(dataDir);
      try {
        const main = (await lsRemote(`${cook.url}/app.git`))["refs/heads/main"]!;
        assert.equal(main, landed ? head : before);
        const gates = await eventually(async () => {
          const g = await branchGates(cook, "app/feature");
          return g.merges[0] && !["queued", "gating", "merging"].includes(g.merges[0].state) ? g : undefined;
        });
        const shown = JSON.parse((await cook.cli(["branch", "show", "app/feature", "--json"])).stdout) as { status: string; archiveRef?: string };
        const merged = await eventsOf(cook, "cook.branch.app.feature.merged");
        if (landed) {
          assert.equal(gates.merges[0]!.state, "merged");
          assert.equal(shown.status, "merged");
          assert.ok(shown.archiveRef);
          assert.equal(merged.length, 1);
          assert.equal(merged[0]!.data.commit, head);
        } else {
          assert.equal(gates.merges[0]!.state, "failed");
          assert.match(gates.merges[0]!.message!, /the server stopped during the merge/);
          assert.equal(shown.status, "open");
          assert.equal(merged.length, 0);
          // Nothing is stuck: merging again lands it.
          const again = await cook.cli(["branch", "merge", "app/feature"]);
          assert.equal(again.code, 0, again.stderr);
        }
        await gitOk(["--git-dir", join(dataDir, "repos", "app.git"), "fsck", "--strict", "--no-progress"]);
      } finally {
        await cook.stop();
      }
    });
  }
});
