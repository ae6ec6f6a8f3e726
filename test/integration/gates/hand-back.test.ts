import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { commandAgentsConfig } from "../../helpers/command-agents.js";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { branchGates, pushBranch, runReaching, seedRepo } from "../../helpers/gates.js";
import { eventually } from "../../helpers/wait.js";

// The agents work by their prompt: "start" commits work that fails the gate; told that the gate
// failed, `fixer` adds the missing file and `stubborn` commits something that still fails.
const agentScript = (onFailure: string) => `#!/bin/sh
case "$1" in
  *"Gate 'ci' failed"*) echo "got: $1" | head -5; ${onFailure}; git add -A; git commit -qm "after the failure"; git push -q origin HEAD; cook done ;;
  *"asked for changes"*) echo "$1" > review-answer.txt; git add -A; git commit -qm "answer the review"; git push -q origin HEAD; cook done ;;
  *"conflicts in"*) echo "told: $1" ;;
  *start*) echo work > work.txt; git add work.txt; git commit -qm start; git push -q origin HEAD; cook done ;;
  *clash*) echo mine > c.txt; git add c.txt; git commit -qm clash; git push -q origin HEAD; cook done ;;
  *) echo "nothing to do" ;;
esac
`;

describe("gate failures handed back to the agent", () => {
  let cook: RunningCook;
  let reviewed: string;

  before(async () => {
    cook = await startCook({ config: commandAgentsConfig({ fixer: agentScript("echo ok > ok.txt"), stubborn: agentScript("date > still-broken.txt") }) });
    const toml = (extra: string) => `${extra}[[gates]]\nname = "ci"\ncommand = "test -f ok.txt || { echo 'ok.txt is missing'; exit 1; }"\non_fail = "agent"\n`;
    await seedRepo(cook, "app", { "cook.toml": toml("") });
    await seedRepo(cook, "strict", { "cook.toml": toml("[gate_defaults]\nmax_fixes = 1\n\n") });
    reviewed = await seedRepo(cook, "reviewed", {
      "cook.toml": '[gate_defaults]\non_changes_requested = "agent"\n\n[merge]\non_conflict = "agent"\n\n[[gates]]\nname = "approve"\nkind = "human_approval"\n',
      "c.txt": "base\n",
    });
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
    // The reason is where an agent's own ask-for-help would be: on its session, waiting on a human.
    const session = await eventually(async () => {
      const shown = JSON.parse((await cook.cli(["branch", "show", `strict/${task.id}`, "--json"])).stdout) as { sessions: Array<{ status: string; reason?: string }> };
      return shown.sessions[0]?.status === "waiting" ? shown.sessions[0] : undefined;
    }, 30_000, "the session to wait on a human");
    assert.match(session.reason!, /gate 'ci' still fails after 1 fix by the agent: exited with code 1/);
  });

  it("sends a rejection's comment to the agent, and a merge conflict with its paths", async () => {
    const created = await cook.cli(["branch", "create", "reviewed", "clash", "--agent", "fixer", "--prompt", "clash"]);
    assert.equal(created.code, 0, created.stderr);
    const first = await runReaching(cook, "reviewed/clash", ["waiting"], { timeoutMs: 30_000 });
    const rejected = await cook.cli(["branch", "reject", "reviewed/clash", "--comment", "please explain the clash"]);
    assert.equal(rejected.code, 0, rejected.stderr);
    const answered = await eventually(async () => {
      const runs = (await branchGates(cook, "reviewed/clash")).runs;
      return runs.find((r) => r.head !== first.head && r.state === "waiting");
    }, 30_000, "the agent's answer to be pushed and wait for review");
    assert.ok(answered);
    const failed = (await branchGates(cook, "reviewed/clash")).runs.find((r) => r.head === first.head)!;
    assert.equal(failed.results[0]!.handedBack, true);

    // main moves under the branch (c.txt changed by another branch), so merging it conflicts.
    await pushBranch(reviewed, "other", { "c.txt": "theirs\n" });
    const other = await runReaching(cook, "reviewed/other", ["waiting"]);
    assert.equal((await cook.cli(["branch", "approve", "reviewed/other"])).code, 0);
    await runReaching(cook, "reviewed/other", ["passed"], { head: other.head });
    assert.equal((await cook.cli(["branch", "merge", "reviewed/other"])).code, 0);
    assert.equal((await cook.cli(["branch", "approve", "reviewed/clash"])).code, 0);
    await runReaching(cook, "reviewed/clash", ["passed"], { head: answered.head });
    const merge = await cook.cli(["branch", "merge", "reviewed/clash"]);
    assert.equal(merge.code, 1);
    assert.match(merge.stderr, /conflicts in c\.txt/);
    const session = await eventually(async () => {
      const shown = JSON.parse((await cook.cli(["branch", "show", "reviewed/clash", "--json"])).stdout) as { sessions: Array<{ id: string; runs: number; status: string }> };
      return shown.sessions[0]!.runs === 3 && shown.sessions[0]!.status !== "running" ? shown.sessions[0] : undefined;
    }, 30_000, "the conflict to reach the agent");
    const events = (await (await fetch(`${cook.url}/api/sessions/${session.id}/events?after=0`)).json()) as { events: Array<{ run: number; text?: string }> };
    assert.match(events.events.filter((e) => e.run === 2).map((e) => e.text ?? "").join("\n"), /please explain the clash/);
    assert.match(events.events.filter((e) => e.run === 3).map((e) => e.text ?? "").join("\n"), /told: Merging this branch into main conflicts in: c\.txt/);
  });
});
