import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { commandAgentsConfig } from "../../helpers/command-agents.js";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { publishedEvents } from "../../helpers/events.js";
import { seedRepo } from "../../helpers/gates.js";
import { tempDir } from "../../helpers/git.js";

const plan = (tasks: unknown[]) => "```cook-plan\n" + JSON.stringify({ tasks }, null, 1) + "\n```";
const good = plan([
  { id: "add-form", title: "Add the login form", body: "A form.\n\nAcceptance criteria:\n- it renders", priority: 1, depends_on: [] },
  { id: "wire-api", title: "Wire the form to the API", body: "Wire it.", priority: 2, depends_on: ["add-form"], stage: 2 },
]);
const learned = plan([
  { id: "learn-a", title: "Learn A" },
  { id: "learn-b", title: "Learn B", depends_on: ["learn-a"] },
]);
const nested = plan([
  { id: "checkout", title: "Checkout" },
  { id: "cart", title: "Cart page", parent: "checkout" },
  { id: "pay", title: "Pay page", parent: "checkout", depends_on: ["cart"] },
]);
const parentLoop = plan([
  { id: "p1", title: "P1", parent: "p2" },
  { id: "p2", title: "P2", parent: "p1" },
  { id: "p3", title: "P3", parent: "nowhere" },
]);
const cyclic = plan([
  { id: "a1", title: "A", depends_on: ["b1"] },
  { id: "b1", title: "B", depends_on: ["a1"] },
]);

// Planners: `steady` answers well at once; `learner` answers with a cycle, then well once told;
// `stubborn` answers with a cycle every time; each records the prompts it got.
const script = (first: string, second: string) => `#!/bin/sh
echo "$1" >> "$(dirname "$0")/prompts-$(basename "$0" .sh).txt"
case "$1" in
  *"could not be used"*) cat <<'PLAN'
${second}
PLAN
  ;;
  *) cat <<'PLAN'
Here is the plan.
${first}
PLAN
  ;;
esac
`;

describe("planning", () => {
  let cook: RunningCook;
  let agentsDir: string;

  before(async () => {
    const config = commandAgentsConfig({ steady: script(good, good), learner: script(cyclic, learned), stubborn: script(cyclic, cyclic), nester: script(nested, nested), looper: script(parentLoop, parentLoop) });
    agentsDir = /command = "(.*)\/steady\.sh"/.exec(config)![1]!;
    cook = await startCook({ config });
    await seedRepo(cook, "app", { "README.md": "# app\n" });
  });
  after(async () => {
    await cook?.stop();
  });

  const startAndWait = async (agent: string, goal: string, extra: string[] = []) => {
    const out = tempDir("cook-plan-out-");
    const result = await cook.cli(["plan", "app", goal, `--agent=${agent}`, `--out=${out}`, ...extra]);
    return { result, out };
  };

  it("turns a goal into drafts, writes them as task files, and makes tasks only of the drafts accepted", async () => {
    const { result, out } = await startAndWait("steady", "Let people log in");
    assert.equal(result.code, 0, result.stderr);
    const id = /plan (pln_\w+) for app: drafted/.exec(result.stdout)![1]!;
    assert.match(result.stdout, /P1 {2}add-form {2}Add the login form/);
    assert.match(result.stdout, /P2 {2}wire-api {2}Wire the form to the API {2}\(after add-form\) {2}\[stage 2\]/);
    assert.deepEqual(readdirSync(out).sort(), ["add-form.md", "wire-api.md"]);
    assert.match(readFileSync(join(out, "wire-api.md"), "utf8"), /depends_on:\n {2}- add-form\n[\s\S]*plan: pln_/);
    assert.match(readFileSync(join(agentsDir, "prompts-steady.txt"), "utf8"), /Let people log in[\s\S]*```cook-plan/);

    const bad = await cook.cli(["plan", "accept", id, "wire-api"]);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, "cook: 'wire-api' depends on 'add-form' of the plan: accept it too, or leave 'wire-api' out\n");
    const accepted = await cook.cli(["plan", "accept", id, "add-form"]);
    assert.equal(accepted.code, 0, accepted.stderr);
    assert.match(accepted.stdout, /created 1 task\(s\) from plan pln_\w+:\n {2}add-form {2}Add the login form/);
    const task = JSON.parse((await cook.cli(["task", "show", "add-form", "--json"])).stdout) as { task: { body: string; priority: number; extra: Record<string, unknown> } };
    assert.deepEqual([task.task.priority, task.task.extra.plan], [1, id]);
    assert.match(task.task.body, /Acceptance criteria/);
    assert.equal((await cook.cli(["task", "show", "wire-api"])).code, 1, "the draft left out is not a task");
    const twice = await cook.cli(["plan", "accept", id, "add-form"]);
    assert.equal(twice.stderr, "cook: 'add-form' is a task already: accepted before\n");
    // The rest later: the dependency accepted before counts.
    const rest = await cook.cli(["plan", "accept", id, "wire-api"]);
    assert.equal(rest.code, 0, rest.stderr);
    const again = await cook.cli(["plan", "accept", id]);
    assert.equal(again.stderr, `cook: every draft of plan ${id} is a task already\n`);
    const shown = JSON.parse((await cook.cli(["plan", "show", id, "--json"])).stdout) as { state: string; accepted: string[]; drafts: unknown[] };
    assert.deepEqual([shown.state, shown.accepted, shown.drafts.length], ["accepted", ["add-form", "wire-api"], 2]);
    const events = await publishedEvents(cook, `cook.plan.app.${id.replace(/_/g, "_5F")}.>`);
    assert.deepEqual(events.map((e) => e.type), ["plan.started", "plan.drafted", "plan.accepted", "plan.accepted"]);
  });

  it("drafts sub-tasks under a parent of the plan, accepted with their parent only", async () => {
    const { result } = await startAndWait("nester", "Checkout");
    assert.equal(result.code, 0, result.stderr);
    const id = /plan (pln_\w+) for app: drafted/.exec(result.stdout)![1]!;
    const shown = (await cook.cli(["plan", "show", id])).stdout;
    assert.match(shown, /^ {2}P\d {2}pay {2}Pay page {2}\(part of checkout\) {2}\(after cart\)$/m, "the drafts name their parent");
    const page = await (await fetch(`${cook.url}/plans/${id}`)).text();
    assert.match(page, /<li class="draft" id="draft-cart">[\s\S]*?<span class="meta draft-parent">part of checkout<\/span>/);
    assert.match(page, /<path class="edge edge-part-of" d="[^"]+"><title>cart part of checkout<\/title><\/path>/, "the graph joins a sub-task to its parent");
    const orphan = await cook.cli(["plan", "accept", id, "cart", "pay"]);
    assert.equal(orphan.code, 1);
    assert.equal(orphan.stderr, "cook: 'cart' is a sub-task of 'checkout' of the plan: accept it too, or leave 'cart' out\n");
    assert.equal((await cook.cli(["plan", "accept", id])).code, 0);
    const detail = JSON.parse((await cook.cli(["task", "show", "checkout", "--json"])).stdout) as { children: Array<{ id: string }> };
    assert.deepEqual(detail.children.map((c) => c.id), ["cart", "pay"]);
    const { result: looped } = await startAndWait("looper", "Loops");
    assert.equal(looped.code, 1);
    assert.match(looped.stderr, /task 'p3' names parent 'nowhere', which is neither in the plan nor an existing task; the parents make a cycle: p1 → p2 → p1/);
  });

  it("sends an answer that fails validation back once with the problems, and uses the second", async () => {
    const { result } = await startAndWait("learner", "Something with a cycle first");
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /drafted \(after 2 answers\)/);
    const prompts = readFileSync(join(agentsDir, "prompts-learner.txt"), "utf8");
    assert.match(prompts, /Your previous answer could not be used:\n- the dependencies make a cycle: a1 → b1 → a1/);
  });

  it("fails a plan whose answers stay invalid, with the reason, keeps the raw answer, and creates nothing", async () => {
    const { result, out } = await startAndWait("stubborn", "Never valid");
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^cook: plan pln_\w+ failed: the planner's answer could not be used: the dependencies make a cycle: a1 → b1 → a1\n$/);
    assert.equal(existsSync(out) && readdirSync(out).length > 0, false);
    const id = /plan (pln_\w+) for app: failed/.exec(result.stdout)![1]!;
    const shown = await cook.cli(["plan", "show", id, "--answer"]);
    assert.equal(shown.code, 0, "showing a failed plan works");
    assert.match(shown.stdout, /^failed: the planner's answer could not be used/m);
    assert.match(shown.stdout, /\n\s*"id": "a1"/, "the answer's lines as they were");
    assert.doesNotMatch(shown.stdout, /\\n/);
    assert.equal((await cook.cli(["task", "show", "a1"])).code, 1);
  });

  it("refuses a goal with a NUL, of a megabyte, or not text, with the reason", async () => {
    for (const [goal, status, message] of [["a\u0000b", 422, /goal cannot contain a NUL character/], ["x".repeat(1024 * 1024), 413, /a goal is at most 4000 characters/], [123, 422, /^the goal is text, not 123$/]] as const) {
      const response = await fetch(`${cook.url}/api/repos/app/plans`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ goal }) });
      assert.equal(response.status, status);
      assert.match(((await response.json()) as { error: { message: string } }).error.message, message);
    }
  });

  it("refuses bad input with one line", async () => {
    for (const [args, message] of [
      [["plan", "app", "x", "--agent=nobody"], /unknown agent|no agent named|nobody/],
      [["plan", "nowhere", "a goal"], /no repo named 'nowhere'/],
      [["plan", "show", "pln_nope"], /no plan 'pln_nope'/],
      [["plan", "accept", "pln_nope"], /no plan 'pln_nope'/],
      [["plan", "show", "x".repeat(3000)], /^cook: no plan 'x{60}…'$/m],
    ] as const) {
      const result = await cook.cli([...args]);
      assert.equal(result.code, 1, `${args.join(" ")}: ${result.stdout}`);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trimEnd().split("\n").length, 1, result.stderr);
    }
  });
});
