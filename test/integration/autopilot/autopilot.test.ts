import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { commandAgentsConfig } from "../../helpers/command-agents.js";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { publishedEvents } from "../../helpers/events.js";
import { seedRepo } from "../../helpers/gates.js";
import { gitOk } from "../../helpers/git.js";
import { eventually } from "../../helpers/wait.js";

// The agent does its task: a file named after its branch (the task's id), holding the files of the
// tasks merged before it started, committed, pushed, done.
const worker = `#!/bin/sh
ls done-*.txt 2>/dev/null > "done-$COOK_BRANCH.txt"
git add -A && git commit -qm "do $COOK_BRANCH" && git push -q origin HEAD && cook done
`;

interface Status {
  enabled: boolean;
  source: string;
  slots: { used: number; total: number };
  queue: Array<{ id: string }>;
  skipped: Array<{ id: string; reason: string }>;
}

describe("autopilot", () => {
  let cook: RunningCook;
  const gate = '[[gates]]\nname = "ci"\ncommand = "ls done-*.txt"\n';

  before(async () => {
    cook = await startCook({ config: commandAgentsConfig({ worker }) });
  });
  after(async () => {
    await cook?.stop();
  });

  const task = async (repo: string, id: string, priority: number, dependsOn: string[] = []) => {
    const args = ["task", "create", repo, `--title=Task ${id}`, `--id=${id}`, `--priority=${priority}`, ...(dependsOn.length ? [`--depends-on=${dependsOn.join(",")}`] : [])];
    const result = await cook.cli(args);
    assert.equal(result.code, 0, result.stderr);
  };
  const status = async (repo: string) => JSON.parse((await cook.cli(["autopilot", "status", repo, "--json"])).stdout) as Status;
  const taskStatus = async (id: string) => (JSON.parse((await cook.cli(["task", "show", id, "--json"])).stdout) as { task: { status: string } }).task.status;

  it("flows ready tasks to merged, dependencies first, never more branches at once than its concurrency", async () => {
    await seedRepo(cook, "app", { "cook.toml": `[autopilot]\nconcurrency = 2\nagent = "worker"\n\n${gate}`, "README.md": "# app\n" });
    // a and c first (priority 1); b waits for a; e waits for b and c; d (priority 3) when a slot is free.
    await task("app", "a", 1);
    await task("app", "b", 2, ["a"]);
    await task("app", "c", 1);
    await task("app", "d", 3);
    await task("app", "e", 2, ["b", "c"]);
    await eventually(async () => {
      for (const id of ["a", "b", "c", "d", "e"]) if ((await taskStatus(id)) !== "closed") return undefined;
      return true;
    }, 120_000, "every task to be merged and closed");

    const dispatched = await publishedEvents(cook, "cook.autopilot.app.dispatched");
    assert.deepEqual(dispatched.map((e) => e.data.task).sort(), ["a", "b", "c", "d", "e"], "each task dispatched once");
    const merged = await publishedEvents(cook, "cook.branch.app.*.merged");
    const mergedAt = new Map(merged.map((e) => [e.data.task as string, e.id]));
    const dispatchedAt = new Map(dispatched.map((e) => [e.data.task as string, e.id]));
    assert.ok(dispatchedAt.get("b")! > mergedAt.get("a")!, "b starts after a has merged");
    assert.ok(dispatchedAt.get("e")! > Math.max(mergedAt.get("b")!, mergedAt.get("c")!), "e starts after b and c have merged");
    assert.deepEqual([...dispatchedAt.entries()].sort((x, y) => x[1] - y[1]).slice(0, 2).map(([id]) => id).sort(), ["a", "c"], "the most urgent first");
    let working = 0;
    let most = 0;
    for (const event of [...dispatched, ...merged].sort((x, y) => x.id - y.id)) {
      working += event.type === "autopilot.dispatched" ? 1 : -1;
      most = Math.max(most, working);
    }
    assert.equal(most, 2, "at most 2 branches at once, and 2 when there was work for 2");

    const bare = join(cook.dataDir, "repos", "app.git");
    const files = await gitOk(["--git-dir", bare, "ls-tree", "--name-only", "main"]);
    for (const id of ["a", "b", "c", "d", "e"]) assert.match(files, new RegExp(`done-${id}\\.txt`));
    assert.match(await gitOk(["--git-dir", bare, "show", "main:done-e.txt"]), /done-a\.txt\ndone-b\.txt\ndone-c\.txt/, "e's branch started from main with its dependencies merged");
    await gitOk(["--git-dir", bare, "fsck", "--strict", "--no-progress"]);
    const after = await status("app");
    assert.deepEqual([after.enabled, after.source, after.slots.used, after.queue.length], [true, "cook.toml", 0, 0]);
  });

  it("is switched off and on from the CLI: off starts nothing new, on starts the queue", async () => {
    await seedRepo(cook, "quiet", { "cook.toml": `[autopilot]\nagent = "worker"\n\n${gate}` });
    const off = await cook.cli(["autopilot", "off", "quiet"]);
    assert.equal(off.code, 0, off.stderr);
    assert.match(off.stdout, /^autopilot off for quiet \(switched off by local at /);
    await task("quiet", "q1", 2);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(await taskStatus("q1"), "open");
    const queued = await status("quiet");
    assert.deepEqual([queued.enabled, queued.source, queued.queue.map((t) => t.id)], [false, "switch", ["q1"]]);
    const on = await cook.cli(["autopilot", "on", "quiet"]);
    assert.equal(on.code, 0, on.stderr);
    await eventually(async () => (await taskStatus("q1")) === "closed" || undefined, 60_000, "q1 to be merged");
    const switched = await publishedEvents(cook, "cook.autopilot.quiet.switched");
    assert.deepEqual(switched.map((e) => [e.data.enabled, e.data.by]), [[false, "local"], [true, "local"]]);
  });

  it("passes over a task whose branch cannot be made, with the reason, and keeps it open", async () => {
    await seedRepo(cook, "broken", { "cook.toml": `[autopilot]\nagent = "no-such-agent"\n\n${gate}` });
    await task("broken", "never", 2);
    const [skipped] = await eventually(async () => {
      const events = await publishedEvents(cook, "cook.autopilot.broken.skipped");
      return events.length > 0 ? events : undefined;
    }, 20_000, "the skip");
    assert.equal(skipped!.data.task, "never");
    assert.match(String(skipped!.data.reason), /no-such-agent/);
    assert.equal(await taskStatus("never"), "open");
    const shown = await status("broken");
    assert.deepEqual(shown.skipped.map((t) => t.id), ["never"]);
    assert.deepEqual(shown.queue, [], "not tried again until it changes");
    const text = (await cook.cli(["autopilot", "status", "broken"])).stdout;
    assert.match(text, /skipped {2}never: .*no-such-agent/);
  });

  it("refuses bad input with one line", async () => {
    const unknown = await cook.cli(["autopilot", "on", "nowhere"]);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, "cook: no repo named 'nowhere'\n");
    const response = await fetch(`${cook.url}/api/repos/app/autopilot`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ enabled: "yes" }) });
    assert.equal(response.status, 422, "a value of the wrong kind is invalid, as elsewhere in the API");
    assert.match(((await response.json()) as { error: { message: string } }).error.message, /enabled is true or false/);
    await seedRepo(cook, "typo", { "cook.toml": "[autopilot]\nconcurency = 3\n" });
    const typo = await status("typo");
    assert.match((typo as unknown as { problem: string }).problem, /\[autopilot\] concurency: unknown key/);
    // Switched on, it cannot work: it says so once, with the reason.
    assert.equal((await cook.cli(["autopilot", "on", "typo"])).code, 0);
    const [paused] = await eventually(async () => {
      const events = await publishedEvents(cook, "cook.autopilot.typo.paused");
      return events.length > 0 ? events : undefined;
    }, 20_000, "the pause");
    assert.match(String(paused!.data.reason), /cook\.toml on main: \[autopilot\] concurency: unknown key/);
  });
});
