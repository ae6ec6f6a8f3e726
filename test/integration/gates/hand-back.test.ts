import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { commandAgentsConfig } from "../../helpers/command-agents.js";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { branchGates, runReaching, seedRepo } from "../../helpers/gates.js";
import { eventually } from "../../helpers/wait.js";

// The agents work by their prompt: "start" commits work that fails the gate; told that the gate
// failed, `fixer` adds the missing file and `stubborn` commits something that still fails.
const agentScript = (onFailure: string) => `#!/bin/sh
case "$1" in
  *"Gate 'ci' failed"*) echo "got: $1" | head -5; ${onFailure}; git add -A; git commit -qm "after the failure"; git push -q origin HEAD; cook done ;;
  *start*) echo work > work.txt; git add work.txt; git commit -qm start; git push -q origin HEAD; cook done ;;
  *) echo "nothing to do" ;;
esac
`;

describe("gate failures handed back to the agent", () => {
  let cook: RunningCook;

  before(async () => {
    cook = await startCook({ config: commandAgentsConfig({ fixer: agentScript("echo ok > ok.txt"), stubborn: agentScript("date > still-broken.txt") }) });
    const toml = (extra: string) => `${extra}[[gates]]\nname = "ci"\ncommand = "test -f ok.txt || { echo 'ok.txt is missing'; exit 1; }"\non_fail = "agent"\n`;
    await seedRepo(cook, "app", { "cook.toml": toml("") });
    await seedRepo(cook, "strict", { "cook.toml": toml("[gate_defaults]\nmax_fixes = 1\n\n") });
  });

  after(async () => {
    await cook.stop();
  });

  it("sends the failure (gate, command, exit code, log tail) to the session, and the agent's fix passes", async () => {
    const created = await cook.cli(["branch", "create", "app", "fix-it", "--agent", "fixer", "--prompt", "start"]);
    assert.equal(created.code, 0, created.stderr);
    const passed = await runReaching(cook, "app/fix-it", ["passed"], { timeoutMs: 60_000 });
    const runs = (await branchGates(cook, "app/fix-it")).runs;
    const failed = runs.find((r) => r.state === "failed")!;
    assert.ok(failed, JSON.stringify(runs));
    assert.equal(failed.results[0]!.handedBack, true);
    assert.notEqual(passed.head, failed.head);
    const sessions = JSON.parse((await cook.cli(["branch", "show", "app/fix-it", "--json"])).stdout) as { sessions: Array<{ id: string; runs: number }> };
    assert.equal(sessions.sessions[0]!.runs, 2);
    const events = (await (await fetch(`${cook.url}/api/sessions/${sessions.sessions[0]!.id}/events?after=0`)).json()) as { events: Array<{ run: number; kind: string; text?: string }> };
    const followUp = events.events.filter((e) => e.run === 2).map((e) => e.text ?? "").join("\n");
    assert.match(followUp, /Gate 'ci' failed on commit [0-9a-f]{12}: exited with code 1: ok.txt is missing/);
  });

  it("stops after max_fixes and sends the task to a human", async () => {
    const task = JSON.parse((await cook.cli(["task", "create", "strict", "--title=Never green", "--json"])).stdout) as { id: string };
    const created = await cook.cli(["branch", "create", "strict", "--task", task.id, "--agent", "stubborn", "--prompt", "start"]);
    assert.equal(created.code, 0, created.stderr);
    await eventually(
      async () => (JSON.parse((await cook.cli(["task", "show", task.id, "--json"])).stdout) as { task: { status: string } }).task.status === "needs_human",
      60_000,
      "the task to need a human",
    );
    const runs = (await branchGates(cook, `strict/${task.id}`)).runs;
    assert.equal(runs.filter((r) => r.state === "failed").length, 2, JSON.stringify(runs.map((r) => [r.state, r.head])));
    assert.equal(runs.filter((r) => r.results[0]?.handedBack).length, 1);
  });
});
