import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { branchGates, eventsOf, pushBranch, runReaching, seedRepo } from "../../helpers/gates.js";

describe("human approval gates", () => {
  let cook: RunningCook;
  let work: string;
  const tokens: Record<string, string> = {};
  const as = (name: string, args: string[]) => cook.cli(args, { env: { COOK_TOKEN: tokens[name] } });

  before(async () => {
    cook = await startCook();
    for (const name of ["alice", "bob"]) {
      const created = await cook.cli(["token", "create", "--scope", "user", "--name", name]);
      assert.equal(created.code, 0, created.stderr);
      tokens[name] = created.stdout.trim();
    }
    work = await seedRepo(cook, "app", {
      "cook.toml": '[[gates]]\nname = "ci"\ncommand = "true"\n\n[[gates]]\nname = "approve"\nkind = "human_approval"\nreviewers = ["alice"]\n\n[[gates]]\nname = "after"\ncommand = "true"\n',
    });
  });

  after(async () => {
    await cook.stop();
  });

  it("waits for an allowed reviewer, takes a verdict on the commit it was given on, and a new push clears it", async () => {
    const head = await pushBranch(work, "feature", { "a.txt": "a\n" });
    const waiting = await runReaching(cook, "feature", ["waiting"], { head });
    assert.deepEqual(waiting.results.map((r) => [r.gate, r.state]), [["ci", "passed"], ["approve", "waiting"], ["after", "pending"]]);
    assert.match(waiting.results[1]!.summary!, /waits for approval by alice/);
    assert.equal((await eventsOf(cook, "cook.gate.app.feature.approve.waiting")).length, 1);
    const merge = await cook.cli(["branch", "merge", "app/feature"]);
    assert.equal(merge.code, 1);
    assert.match(merge.stderr, /gate 'approve' is waiting on [0-9a-f]{12}: waits for approval by alice/);

    const bob = await as("bob", ["branch", "approve", "app/feature"]);
    assert.equal(bob.code, 1);
    assert.match(bob.stderr, /gate 'approve' takes verdicts from alice only, not bob/);
    const approved = await as("alice", ["branch", "approve", "app/feature", "--comment", "looks right"]);
    assert.equal(approved.code, 0, approved.stderr);
    assert.match(approved.stdout, new RegExp(`approved app/feature at ${head.slice(0, 8)} for gate 'approve'`));
    const passed = await runReaching(cook, "feature", ["passed"], { head });
    assert.match(passed.results[1]!.summary!, /approved by alice: looks right/);
    assert.equal(passed.results[2]!.state, "passed");

    const newer = await pushBranch(work, "feature", { "b.txt": "b\n" });
    const again = await runReaching(cook, "feature", ["waiting"], { head: newer });
    assert.equal(again.results[1]!.state, "waiting");
  });

  it("puts a task whose branch waits for approval under needs you, and back to work once approved", async () => {
    const taskStatus = async () => (JSON.parse((await cook.cli(["task", "show", "needs-approval", "--json"])).stdout) as { task: { status: string } }).task.status;
    assert.equal((await cook.cli(["task", "create", "app", "--title=Needs approval", "--id=needs-approval"])).code, 0);
    assert.equal((await cook.cli(["branch", "create", "app", "approved-work", "--task", "needs-approval", "--env", "none"])).code, 0);
    assert.equal(await taskStatus(), "in_progress");
    const head = await pushBranch(work, "approved-work", { "w.txt": "w\n" });
    await runReaching(cook, "approved-work", ["waiting"], { head });
    assert.equal(await taskStatus(), "needs_human", "the work waits on a person");
    const reasonShown = async () => {
      const status = JSON.parse((await cook.cli(["autopilot", "status", "app", "--json"])).stdout) as { needsYou: Array<{ id: string; reason?: string }> };
      return status.needsYou.find((task) => task.id === "needs-approval")?.reason;
    };
    // The session (there is none) cannot say why; the task keeps the reason it moved with.
    assert.equal(await reasonShown(), "gate 'approve' waits for approval by alice");
    const [moved] = (await eventsOf(cook, "cook.task.app.needs-approval.status")).filter((event) => (event.data as { to: string }).to === "needs_human");
    assert.equal((moved!.data as { reason?: string }).reason, "gate 'approve' waits for approval by alice");
    assert.match((await cook.cli(["task", "show", "needs-approval"])).stdout, /^waiting on you: gate 'approve' waits for approval by alice$/m);
    assert.match(await (await fetch(`${cook.url}/tasks/needs-approval`)).text(), /<dt>Status<\/dt><dd>.*<span class="help-message">gate &#39;approve&#39; waits for approval by alice<\/span><\/dd>/);
    assert.equal((await as("alice", ["branch", "approve", "app/approved-work"])).code, 0);
    assert.equal(await taskStatus(), "in_progress");
    await runReaching(cook, "approved-work", ["passed"], { head });
  });

  it("fails the gate on a rejection, with the comment, and later gates are not run", async () => {
    const head = (await branchGates(cook, "app/feature")).runs[0]!.head;
    const rejected = await as("alice", ["branch", "reject", "app/feature", "--comment", "needs a test"]);
    assert.equal(rejected.code, 0, rejected.stderr);
    const failed = await runReaching(cook, "feature", ["failed"], { head });
    assert.deepEqual(failed.results.map((r) => r.state), ["passed", "failed", "not_run"]);
    assert.match(failed.results[1]!.summary!, /rejected by alice: needs a test/);
  });

  it("refuses verdicts from agent tokens and on repos without an approval gate", async () => {
    const agent = await cook.cli(["token", "create", "--scope", "agent:app/feature"]);
    const refused = await cook.cli(["branch", "approve", "app/feature"], { env: { COOK_TOKEN: agent.stdout.trim() } });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /agent token/);
    const plain = await seedRepo(cook, "plain", { "cook.toml": '[[gates]]\nname = "ci"\ncommand = "true"\n' });
    const head = await pushBranch(plain, "topic", { "a.txt": "a\n" });
    await runReaching(cook, "plain/topic", ["passed"], { head });
    const none = await cook.cli(["branch", "approve", "plain/topic"]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no gate of plain asks for approval/);
  });
});
