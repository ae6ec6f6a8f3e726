import assert from "node:assert/strict";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { commandAgentsConfig } from "../../helpers/command-agents.js";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { publishedEvents } from "../../helpers/events.js";
import { seedRepo } from "../../helpers/gates.js";
import { eventually } from "../../helpers/wait.js";

// Run again after a restart, it finds its work committed already and only pushes and reports.
const worker = `#!/bin/sh
echo done > "done-$COOK_BRANCH.txt"
git add -A && { git commit -qm "do $COOK_BRANCH" || true; } && git push -q origin HEAD && cook done
`;

describe("a server killed mid-dispatch", () => {
  for (const failpoint of ["autopilot:claimed", "autopilot:branch-created"]) {
    it(`${failpoint}: on restart the task has one branch, is not stuck, and flows on to merged`, async () => {
      const dataDir = mkdtempSync(join(tmpdir(), "cook-test-"));
      const config = commandAgentsConfig({ worker });
      let cook: RunningCook = await startCook({ config, env: { COOK_DATA_DIR: dataDir, COOK_FAILPOINT: failpoint } });
      await seedRepo(cook, "app", { "cook.toml": '[autopilot]\nagent = "worker"\n\n[[gates]]\nname = "ci"\ncommand = "true"\n' });
      await cook.cli(["task", "create", "app", "--title=Survive", "--id=survive"]).catch(() => undefined);
      await eventually(() => cook.child.exitCode !== null || cook.child.signalCode !== null || undefined, 20_000, "the server to die at the failpoint");
      await cook.stop();
      assert.equal(cook.child.signalCode, "SIGKILL");

      cook = await startCook({ config, env: { COOK_DATA_DIR: dataDir } });
      try {
        await eventually(async () => (JSON.parse((await cook.cli(["task", "show", "survive", "--json"])).stdout) as { task: { status: string } }).task.status === "closed" || undefined, 60_000, "the task to be merged");
        const ofTask = JSON.parse((await cook.cli(["branch", "list", "--task=survive", "--json"])).stdout) as Array<{ name: string; status: string }>;
        assert.deepEqual(ofTask.map((b) => b.status), ["merged"], `one branch, merged: ${JSON.stringify(ofTask)}`);
        const decisions = await publishedEvents(cook, "cook.autopilot.app.>");
        const kinds = decisions.map((e) => `${e.type}${e.data.recovered ? " (recovered)" : ""}`);
        assert.deepEqual(kinds, failpoint === "autopilot:claimed" ? ["autopilot.skipped", "autopilot.dispatched"] : ["autopilot.dispatched (recovered)"]);
        if (failpoint === "autopilot:claimed") assert.match(String(decisions[0]!.data.reason), /the server stopped before the task's branch was made/);
      } finally {
        await cook.stop();
      }
    });
  }

  it("a graceful stop mid-run: on restart autopilot resumes the interrupted session and the task flows on to merged", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "cook-test-"));
    const marks = mkdtempSync(join(tmpdir(), "cook-marks-"));
    // The first run waits (as a long agent turn would) until the server's stop ends it; the resumed one works.
    const slowWorker = `#!/bin/sh
if [ ! -e "${marks}/first-run" ]; then touch "${marks}/first-run"; sleep 300; fi
${worker.split("\n").slice(1).join("\n")}`;
    const config = commandAgentsConfig({ worker: slowWorker });
    let cook: RunningCook = await startCook({ config, env: { COOK_DATA_DIR: dataDir } });
    await seedRepo(cook, "app", { "cook.toml": '[autopilot]\nagent = "worker"\n\n[[gates]]\nname = "ci"\ncommand = "true"\n' });
    assert.equal((await cook.cli(["task", "create", "app", "--title=Outlive", "--id=outlive"])).code, 0);
    await eventually(() => existsSync(join(marks, "first-run")) || undefined, 30_000, "the agent's first run");
    assert.equal(await cook.stop("SIGTERM"), 0);

    cook = await startCook({ config, env: { COOK_DATA_DIR: dataDir } });
    try {
      await eventually(async () => (JSON.parse((await cook.cli(["task", "show", "outlive", "--json"])).stdout) as { task: { status: string } }).task.status === "closed" || undefined, 60_000, "the task to be merged");
      const ofTask = JSON.parse((await cook.cli(["branch", "list", "--task=outlive", "--json"])).stdout) as Array<{ status: string }>;
      assert.deepEqual(ofTask.map((b) => b.status), ["merged"]);
    } finally {
      await cook.stop();
    }
  });

  it("branch:parent-made: on restart the parent keeps its one branch, the sub-task gets one from it, and both land", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "cook-test-"));
    const config = commandAgentsConfig({ worker });
    let cook: RunningCook = await startCook({ config, env: { COOK_DATA_DIR: dataDir, COOK_FAILPOINT: "branch:parent-made" } });
    await seedRepo(cook, "app", { "cook.toml": '[autopilot]\nagent = "worker"\n\n[[gates]]\nname = "ci"\ncommand = "true"\n' });
    // Paused while both are written, so the sub-task is not dispatched between the two.
    assert.equal((await cook.cli(["autopilot", "off", "app"])).code, 0);
    assert.equal((await cook.cli(["task", "create", "app", "--title=Epic", "--id=epic"])).code, 0);
    assert.equal((await cook.cli(["task", "create", "app", "--title=Part", "--id=part", "--parent=epic"])).code, 0);
    await cook.cli(["autopilot", "on", "app"]).catch(() => undefined);
    await eventually(() => cook.child.exitCode !== null || cook.child.signalCode !== null || undefined, 20_000, "the server to die at the failpoint");
    await cook.stop();
    assert.equal(cook.child.signalCode, "SIGKILL");

    cook = await startCook({ config, env: { COOK_DATA_DIR: dataDir } });
    try {
      const status = async (id: string) => (JSON.parse((await cook.cli(["task", "show", id, "--json"])).stdout) as { task: { status: string } }).task.status;
      await eventually(async () => ((await status("part")) === "closed" && (await status("epic")) === "closed") || undefined, 60_000, "the sub-task and its parent to be merged");
      const branches = async (task: string) => (JSON.parse((await cook.cli(["branch", "list", `--task=${task}`, "--json"])).stdout) as Array<{ name: string; status: string; baseBranch: string }>);
      const [epic] = await branches("epic");
      assert.deepEqual((await branches("epic")).map((b) => b.status), ["merged"], "the parent's branch made before the crash, kept and landed");
      assert.deepEqual((await branches("part")).map((b) => [b.status, b.baseBranch]), [["merged", epic!.name]]);
      const merged = await publishedEvents(cook, "cook.branch.app.*.merged");
      assert.deepEqual(merged.map((e) => [e.data.task, e.data.target]), [["part", epic!.name], ["epic", "main"]]);
    } finally {
      await cook.stop();
    }
  });
});
