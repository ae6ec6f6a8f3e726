import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { FactoryStats } from "../../../src/factory/stats.js";
import { commandAgentsConfig } from "../../helpers/command-agents.js";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { seedRepo } from "../../helpers/gates.js";
import { eventually } from "../../helpers/wait.js";

// A plan of three tasks (build-walls after lay-floor; flaky-roof on its own), accepted, then run
// by autopilot with a real command gate. flaky-roof's first attempt fails the gate; the failure
// goes back to the agent, which fixes it on the follow-up. So: 3 merges, at least one failed run.
const planner = `#!/bin/sh
cat <<'PLAN'
\`\`\`cook-plan
{"tasks": [
 {"id": "lay-floor", "title": "Lay the floor", "priority": 1},
 {"id": "build-walls", "title": "Build the walls", "depends_on": ["lay-floor"]},
 {"id": "flaky-roof", "title": "Put the roof on", "priority": 1}
]}
\`\`\`
PLAN
`;
const worker = `#!/bin/sh
set -e
task="$COOK_BRANCH"
mkdir -p tasks
case "$1" in
  *"Gate 'ci' failed"*) echo ok > "tasks/$task.txt" ;;
  *) case "$task" in flaky-*) echo "not yet" > "tasks/$task.txt" ;; *) echo ok > "tasks/$task.txt" ;; esac ;;
esac
git add -A && git commit -qm "do $task" && git push -q origin HEAD && cook done
`;
const gate = `[[gates]]\nname = "ci"\ncommand = 'for f in tasks/*.txt; do [ -e "$f" ] || continue; [ "$(cat "$f")" = ok ] || { echo "$f: $(cat "$f")"; exit 1; }; done'\n`;

describe("the factory page", () => {
  let cook: RunningCook;
  let planId: string;

  const api = async <T>(path: string): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${cook.url}${path}`);
    return { status: response.status, body: (await response.json()) as T };
  };
  const stats = async (query: string) => {
    const { status, body } = await api<{ factory: FactoryStats }>(`/api/factory${query}`);
    assert.equal(status, 200, JSON.stringify(body));
    return body.factory;
  };

  before(async () => {
    cook = await startCook({ config: commandAgentsConfig({ planner, worker }) });
    await seedRepo(cook, "house", { "cook.toml": `[autopilot]\nconcurrency = 2\nagent = "worker"\n\n[gate_defaults]\non_fail = "agent"\n\n${gate}`, "README.md": "# house\n" });
    await seedRepo(cook, "quiet", { "README.md": "# quiet\n" });
    const started = await fetch(`${cook.url}/api/repos/house/plans`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ goal: "A house", agent: "planner" }) });
    assert.equal(started.status, 202, await started.clone().text());
    planId = ((await started.json()) as { plan: { id: string } }).plan.id;
    await eventually(async () => (await api<{ plan: { state: string } }>(`/api/plans/${planId}`)).body.plan.state === "drafted" || undefined, 30_000, "the plan drafted");
    const accepted = await fetch(`${cook.url}/api/plans/${planId}/accept`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
    assert.equal(accepted.status, 200, await accepted.clone().text());
    await eventually(async () => {
      for (const id of ["lay-floor", "build-walls", "flaky-roof"]) {
        if ((await api<{ task: { status: string } }>(`/api/tasks/${id}`)).body.task.status !== "closed") return undefined;
      }
      return true;
    }, 120_000, "every task merged");
  });
  after(async () => {
    await cook?.stop();
  });

  it("counts today's merges with their cycle times, the failed gate run and its re-run, and agent time per task", async () => {
    const s = await stats("?repo=house&days=7");
    const today = new Date().toISOString().slice(0, 10);
    assert.equal(s.days.length, 7);
    assert.equal(s.days.at(-1), today);
    assert.equal(s.merged.total, 3);
    assert.deepEqual(s.merged.perDay.filter((d) => d.count > 0).map((d) => [d.day, d.count]), [[today, 3]]);
    assert.deepEqual(s.merged.tasks.map((t) => t.taskId).sort(), ["build-walls", "flaky-roof", "lay-floor"]);
    for (const t of s.merged.tasks) assert.ok(t.cycleMs > 0, `${t.taskId}'s cycle time is ${t.cycleMs}`);
    const cycles = s.merged.tasks.map((t) => t.cycleMs).sort((a, b) => a - b);
    assert.ok(Math.abs(s.merged.cycle!.medianMs - cycles[1]!) < 1, "the median is the middle task's");
    assert.ok(s.merged.cycle!.p90Ms >= s.merged.cycle!.medianMs && s.merged.cycle!.p90Ms <= cycles[2]! + 1);
    // build-walls waited for lay-floor's merge: its cycle is the longer one.
    const cycleOf = (id: string) => s.merged.tasks.find((t) => t.taskId === id)!.cycleMs;
    assert.ok(cycleOf("build-walls") > cycleOf("lay-floor"));

    assert.ok(s.gates.failed >= 1, `failed runs: ${s.gates.failed}`);
    assert.ok(s.gates.passed >= 3, `passed runs: ${s.gates.passed}`);
    assert.equal(s.gates.passRate, s.gates.passed / (s.gates.passed + s.gates.failed));
    assert.ok(s.gates.passRate! < 1);
    assert.ok(s.gates.reruns >= 1, "flaky-roof's fixed push was a re-run");
    assert.equal(s.gates.branches, 3);
    const todayGates = s.gates.perDay.at(-1)!;
    assert.deepEqual([todayGates.passed, todayGates.failed], [s.gates.passed, s.gates.failed]);

    assert.equal(s.agents.onTasks.tasks, 3);
    assert.deepEqual(s.agents.top.map((t) => t.taskId).sort(), ["build-walls", "flaky-roof", "lay-floor"]);
    for (const t of s.agents.top) assert.ok(t.durationMs > 0 && t.sessions >= 1, `${t.taskId}: ${t.durationMs} ms in ${t.sessions}`);
    assert.equal(s.agents.all.durationMs, s.agents.top.reduce((sum, t) => sum + t.durationMs, 0));
    assert.deepEqual(s.plans.map((p) => [p.id, p.state, p.drafts, p.accepted]), [[planId, "accepted", 3, 3]]);
  });

  it("keeps repos apart, and counts every repo without a filter", async () => {
    const quiet = await stats("?repo=quiet");
    assert.deepEqual([quiet.windowDays, quiet.merged.total, quiet.gates.passed + quiet.gates.failed, quiet.agents.all.sessions, quiet.plans.length], [30, 0, 0, 0, 0]);
    assert.equal(quiet.merged.cycle, undefined);
    assert.equal(quiet.gates.passRate, undefined);
    const all = await stats("");
    assert.equal(all.repo, undefined);
    assert.equal(all.merged.total, 3);
  });

  it("draws the charts with their numbers, and empty states for a repo with no work", async () => {
    const html = await (await fetch(`${cook.url}/factory?repo=house&days=7`)).text();
    assert.equal(html.match(/<svg class="chart"/g)?.length, 4, "merged, cycle time, gate runs, agent time");
    assert.match(html, /data-figure="merged">3</);
    assert.match(html, /<a href="\/factory" aria-current="page">Factory<\/a>/);
    assert.match(html, new RegExp(`href="/plans/${planId}"`));
    for (const id of ["lay-floor", "build-walls", "flaky-roof"]) assert.match(html, new RegExp(`href="/tasks/${id}"`));
    const quiet = await (await fetch(`${cook.url}/factory?repo=quiet`)).text();
    assert.equal(quiet.match(/<svg class="chart"/g), null);
    assert.match(quiet, /No merges in the last 30 days\./);
    assert.match(quiet, /No gate run ended in the last 30 days\./);
    assert.match(quiet, /No agent session in the last 30 days\./);
  });

  it("answers htmx with the charts section alone", async () => {
    const response = await fetch(`${cook.url}/factory?repo=house&days=7`, { headers: { "HX-Request": "true", "HX-Target": "factory-charts" } });
    const html = await response.text();
    assert.match(html, /^\s*<section id="factory-charts"/);
    assert.doesNotMatch(html, /<html/);
  });

  it("draws the plan's dependency graph with each task's state, linked to the tasks", async () => {
    const html = await (await fetch(`${cook.url}/plans/${planId}`)).text();
    const nodes = [...html.matchAll(/<a class="node state-(\w+)" href="([^"]+)" data-task="([^"]+)"/g)].map((m) => [m[3], m[1], m[2]]);
    assert.deepEqual(nodes.sort(), [
      ["build-walls", "done", "/tasks/build-walls"],
      ["flaky-roof", "done", "/tasks/flaky-roof"],
      ["lay-floor", "done", "/tasks/lay-floor"],
    ]);
    assert.equal(html.match(/<path class="edge edge-after"/g)?.length, 1, "build-walls after lay-floor");
  });

  it("refuses a window it does not offer (422) and a repo that does not exist (404), as JSON and as a page", async () => {
    for (const query of ["?days=abc", "?days=14", "?days=7&days=30"]) {
      const { status, body } = await api<{ error: { code: string; message: string } }>(`/api/factory${query}`);
      assert.equal(status, 422, query);
      assert.equal(body.error.code, "invalid");
      const page = await fetch(`${cook.url}/factory${query}`);
      assert.equal(page.status, 422, query);
    }
    assert.equal((await api<{ error: { message: string } }>("/api/factory?days=abc")).body.error.message, "days must be one of 7, 30, 90, got 'abc'");
    const missing = await api<{ error: { message: string } }>("/api/factory?repo=no-such-repo");
    assert.deepEqual([missing.status, missing.body.error.message], [404, "no repo named 'no-such-repo'"]);
    const page = await fetch(`${cook.url}/factory?repo=no-such-repo`);
    assert.equal(page.status, 404);
    assert.match(await page.text(), /no repo named &#39;no-such-repo&#39;/);
  });
});
