import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
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
  parents: Array<{ id: string; openSubTasks: number }>;
  waitingOnParent: Array<{ id: string; parent: string; reason: string }>;
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
    cook = await startCook({ config: commandAgentsConfig({ worker, crasher: "#!/bin/sh\necho 'cannot work here' >&2\nexit 3\n" }) });
  });
  after(async () => {
    await cook?.stop();
  });

  const task = async (repo: string, id: string, priority: number, dependsOn: string[] = []) => {
    const args = ["task", "create", repo, `--title=Task ${id}`, `--id=${id}`, `--priority=${priority}`, ...(dependsOn.length ? [`--depends-on=${dependsOn.join(",")}`] : [])];
    const result = await cook.cli(args);
    assert.equal(result.code, 0, result.stderr);
  };
  /** Tasks arrive together, as a plan's would: one import, one transaction. */
  const importTasks = async (repo: string, tasks: Array<{ id: string; priority?: number; dependsOn?: string[]; stage?: string; parent?: string }>) => {
    const dir = mkdtempSync(join(tmpdir(), "cook-tasks-"));
    for (const t of tasks) {
      writeFileSync(join(dir, `${t.id}.md`), `---\nid: ${t.id}\ntitle: Task ${t.id}\nrepo: ${repo}\npriority: ${t.priority ?? 2}\n${t.dependsOn?.length ? `depends_on: [${t.dependsOn.join(", ")}]\n` : ""}${t.stage ? `stage: ${t.stage}\n` : ""}${t.parent ? `parent: ${t.parent}\n` : ""}---\n`);
    }
    const imported = await cook.cli(["task", "import", dir]);
    assert.equal(imported.code, 0, imported.stderr);
  };
  const status = async (repo: string) => JSON.parse((await cook.cli(["autopilot", "status", repo, "--json"])).stdout) as Status;
  const taskStatus = async (id: string) => (JSON.parse((await cook.cli(["task", "show", id, "--json"])).stdout) as { task: { status: string } }).task.status;

  it("flows ready tasks to merged, dependencies first, never more branches at once than its concurrency", async () => {
    await seedRepo(cook, "app", { "cook.toml": `[autopilot]\nconcurrency = 2\nagent = "worker"\n\n${gate}`, "README.md": "# app\n" });
    // a and c first (priority 1); b waits for a; e waits for b and c; d (priority 3) when a slot is free.
    await importTasks("app", [
      { id: "a", priority: 1 },
      { id: "b", priority: 2, dependsOn: ["a"] },
      { id: "c", priority: 1 },
      { id: "d", priority: 3 },
      { id: "e", priority: 2, dependsOn: ["b", "c"] },
    ]);
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
    // Each agent ran `cook done` and exited; a merge that followed at once did not cut its run off.
    for (const event of dispatched) {
      const { session } = (await (await fetch(`${cook.url}/api/sessions/${String(event.data.session)}`)).json()) as { session: { status: string; reason?: string } };
      assert.equal(session.status, "completed", `${String(event.data.task)}: ${session.status} ${session.reason ?? ""}`);
    }

    const bare = join(cook.dataDir, "repos", "app.git");
    const files = await gitOk(["--git-dir", bare, "ls-tree", "--name-only", "main"]);
    for (const id of ["a", "b", "c", "d", "e"]) assert.match(files, new RegExp(`done-${id}\\.txt`));
    assert.match(await gitOk(["--git-dir", bare, "show", "main:done-e.txt"]), /done-a\.txt\ndone-b\.txt\ndone-c\.txt/, "e's branch started from main with its dependencies merged");
    await gitOk(["--git-dir", bare, "fsck", "--strict", "--no-progress"]);
    const after = await status("app");
    assert.deepEqual([after.enabled, after.source, after.slots.used, after.queue.length], [true, "cook.toml", 0, 0]);
  });

  it("works sub-tasks on branches of their parent task's branch, and lands the parent when they are in", async () => {
    await seedRepo(cook, "tree", { "cook.toml": `[autopilot]\nconcurrency = 2\nagent = "worker"\n\n${gate}` });
    assert.equal((await cook.cli(["autopilot", "off", "tree"])).code, 0);
    await importTasks("tree", [
      { id: "epic" },
      { id: "s1", parent: "epic" },
      { id: "s2", parent: "epic", dependsOn: ["s1"] },
      { id: "epic2", dependsOn: ["epic"] },
      { id: "s3", parent: "epic2" },
      // Its dependency is a sub-task: met when s1 merges into epic's branch, but main has s1's work only once epic lands.
      { id: "uses-s1", dependsOn: ["s1"] },
    ]);
    const before = await status("tree");
    assert.deepEqual(before.queue.map((t) => t.id), ["s1"], "a parent is no agent's work; s3's parent is not ready");
    assert.deepEqual(before.parents.map((t) => [t.id, t.openSubTasks]), [["epic", 2], ["epic2", 1]]);
    assert.deepEqual(before.waitingOnParent.map((t) => t.id), ["s3"]);
    assert.match(before.waitingOnParent[0]!.reason, /its parent task 'epic2' waits for 'epic'/);
    assert.match((await cook.cli(["autopilot", "status", "tree"])).stdout, /parent {3}epic: collects 2 open sub-tasks/);

    assert.equal((await cook.cli(["autopilot", "on", "tree"])).code, 0);
    await eventually(async () => {
      for (const id of ["epic", "s1", "s2", "epic2", "s3", "uses-s1"]) if ((await taskStatus(id)) !== "closed") return undefined;
      return true;
    }, 120_000, "every sub-task and both parents to be merged and closed");

    const dispatched = await publishedEvents(cook, "cook.autopilot.tree.dispatched");
    assert.deepEqual(dispatched.filter((e) => e.data.task !== "uses-s1").map((e) => [e.data.task, e.data.parents ?? []]), [["s1", ["epic"]], ["s2", []], ["s3", ["epic2"]]], "agents work the sub-tasks; each parent's branch came with its first");
    const merged = await publishedEvents(cook, "cook.branch.tree.*.merged");
    assert.deepEqual(merged.filter((e) => e.data.task !== "uses-s1").map((e) => [e.data.task, e.data.target]), [["s1", "epic"], ["s2", "epic"], ["epic", "main"], ["s3", "epic2"], ["epic2", "main"]]);
    const epicLanded = merged.find((e) => e.data.task === "epic")!;
    assert.ok(dispatched.find((e) => e.data.task === "uses-s1")!.id > epicLanded.id, "the task needing s1 started once s1's work was on main");
    const bare = join(cook.dataDir, "repos", "tree.git");
    assert.match(await gitOk(["--git-dir", bare, "show", "main:done-uses-s1.txt"]), /done-s1\.txt/, "it started from main with s1's work in it");
    assert.match(await gitOk(["--git-dir", bare, "show", "main:done-s2.txt"]), /done-s1\.txt/, "s2 started from the parent's branch with s1 in it");
    assert.match(await gitOk(["--git-dir", bare, "show", "main:done-s3.txt"]), /done-s1\.txt\ndone-s2\.txt/, "epic2's branch started from main after epic landed");
    await gitOk(["--git-dir", bare, "fsck", "--strict", "--no-progress"]);
  });

  it("names the ready tasks it leaves to people because they carry none of its labels", async () => {
    await seedRepo(cook, "labelled", { "cook.toml": `[autopilot]\nenabled = false\nagent = "worker"\nlabels = ["bot"]\n` });
    for (const [title, extra] of [["For the bot", { labels: ["bot"] }], ["For people", {}]] as const) {
      const response = await fetch(`${cook.url}/api/tasks`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ repo: "labelled", title, extra }) });
      assert.equal(response.status, 201);
    }
    const shown = (await status("labelled")) as unknown as { queue: Array<{ id: string }>; unlabelled: Array<{ id: string }> };
    assert.deepEqual([shown.queue.map((t) => t.id), shown.unlabelled.map((t) => t.id)], [["for-the-bot"], ["for-people"]]);
    assert.match((await cook.cli(["autopilot", "status", "labelled"])).stdout, /^ {2}left {5}for-people: carries none of the labels bot: for people$/m);
  });

  it("with merge = \"manual\", says which branch holding a slot waits for a person to merge it", async () => {
    await seedRepo(cook, "manual", { "cook.toml": `[autopilot]\nconcurrency = 1\nagent = "worker"\nmerge = "manual"\n\n${gate}` });
    await task("manual", "by-hand", 1);
    const waiting = await eventually(async () => {
      const running = ((await status("manual")) as unknown as { running: Array<{ task: string; awaitsMerge?: boolean }> }).running;
      return running.find((r) => r.task === "by-hand" && r.awaitsMerge);
    }, 30_000, "the branch to wait for a merge");
    assert.ok(waiting);
    assert.match((await cook.cli(["autopilot", "status", "manual"])).stdout, /working {2}by-hand on \S+ — gates passed: waits for you to merge it/);
    assert.equal(await taskStatus("by-hand"), "in_progress", "it holds its slot until merged");
  });

  it("sends a task whose gate fails with nobody set to fix it (on_fail = \"stop\") to a person, freeing its slot", async () => {
    await seedRepo(cook, "redgate", { "cook.toml": `[autopilot]\nconcurrency = 1\nagent = "worker"\n\n[[gates]]\nname = "ci"\ncommand = "echo never green; false"\n` });
    await task("redgate", "red", 1);
    await task("redgate", "next", 2);
    await eventually(async () => ((await taskStatus("red")) === "needs_human" ? true : undefined), 30_000, "the task waiting on a person");
    const needsYou = (await status("redgate") as unknown as { needsYou: Array<{ id: string; reason?: string }> }).needsYou;
    // The next task may be there too by now: its slot came free.
    assert.equal(needsYou.find((t) => t.id === "red")?.reason, "gate 'ci' failed: exited with code 1: never green");
    // Its slot went to the next task, which fails the same way.
    await eventually(async () => ((await taskStatus("next")) === "needs_human" ? true : undefined), 30_000, "the next task to have been worked on");
  });

  it("sends a task whose agent's run failed to a person, freeing its slot", async () => {
    await seedRepo(cook, "crashy", { "cook.toml": `[autopilot]\nconcurrency = 1\nagent = "crasher"\n\n${gate}` });
    await task("crashy", "doomed", 1);
    await eventually(async () => ((await taskStatus("doomed")) === "needs_human" ? true : undefined), 30_000, "the task waiting on a person");
    const after = await status("crashy");
    assert.deepEqual([after.slots.used, after.queue.length], [0, 0], "its slot is free, nothing else waits");
    const needsYou = (after as unknown as { needsYou: Array<{ id: string; reason?: string }> }).needsYou;
    assert.deepEqual(needsYou.map((t) => t.id), ["doomed"]);
    assert.equal(needsYou[0]!.reason, "the agent's run failed: cannot work here", "it says why: what the agent said as it failed");
    assert.match((await cook.cli(["autopilot", "status", "crashy"])).stdout, /doomed {2}.* — the agent's run failed: cannot work here/);
    for (const page of ["/branches?repo=crashy", "/tasks?repo=crashy", "/"]) {
      assert.match(await (await fetch(`${cook.url}${page}`)).text(), /waiting on you<\/span> <span class="help-message">the agent&#39;s run failed: cannot work here<\/span>/, `${page} says why`);
    }
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

  it("runs stages in order: the next starts only after the last has ended and a person continued past it", async () => {
    await seedRepo(cook, "staged", { "cook.toml": `[autopilot]\nconcurrency = 4\nagent = "worker"\n\n${gate}` });
    await importTasks("staged", [{ id: "s2-a", stage: "2" }, { id: "s1-a", stage: "1" }, { id: "s1-b", stage: "1" }, { id: "free" }]);
    await eventually(async () => {
      for (const id of ["s1-a", "s1-b", "free"]) if ((await taskStatus(id)) !== "closed") return undefined;
      return true;
    }, 60_000, "stage 1 and the task without a stage to be merged");
    assert.equal(await taskStatus("s2-a"), "open", "stage 2 waits for a person");
    const list = await cook.cli(["stage", "list", "staged"]);
    assert.match(list.stdout, /1 +ended: waits for you \(cook stage continue\) +2 merged/);
    assert.match(list.stdout, /2 +held +0 merged, 1 not started/);
    const early = await cook.cli(["stage", "continue", "staged", "02"]);
    assert.equal(early.code, 1);
    assert.equal(early.stderr, "cook: stage '2' has not started: continue past the stages before it first\n", "02 names stage 2, as YAML reads it");
    const unknown = await cook.cli(["stage", "continue", "staged", "9"]);
    assert.equal(unknown.stderr, "cook: staged has no stage '9'; its stages: 1, 2\n");
    const long = await cook.cli(["stage", "continue", "staged", "s".repeat(3000)]);
    assert.equal(long.stderr, `cook: staged has no stage '${"s".repeat(80)}…'; its stages: 1, 2\n`, "a name sent as long as one likes is echoed only in part");
    const empty = await cook.cli(["stage", "continue", "staged", " "]);
    assert.equal(empty.stderr, "cook: name the stage to continue past\n");
    for (const stage of [1.5, true, ["a", "b"], -1]) {
      const refused = await fetch(`${cook.url}/api/tasks`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ repo: "staged", title: "Odd stage", extra: { stage } }) });
      assert.equal(refused.status, 422, JSON.stringify(stage));
      assert.match(((await refused.json()) as { error: { message: string } }).error.message, /^stage must be a name or a whole number from 0 \(got /);
    }
    const go = await cook.cli(["stage", "continue", "staged", "1"]);
    assert.equal(go.code, 0, go.stderr);
    assert.match(go.stdout, /continued past stage 1 of staged/);
    await eventually(async () => ((await taskStatus("s2-a")) === "closed" ? true : undefined), 60_000, "stage 2 to be merged");
    const again = await cook.cli(["stage", "continue", "staged", "1"]);
    assert.match(again.stderr, /stage '1' was continued past already, by local/);
    const continued = await publishedEvents(cook, "cook.autopilot.staged.continued");
    assert.deepEqual(continued.map((e) => [e.data.stage, e.data.by, e.data.summary]), [["1", "local", "2 merged"]]);
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
