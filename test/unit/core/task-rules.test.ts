import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkBody, checkDependsOn, checkExtra, checkPriority, checkResolution, checkTaskId, checkTaskRepo, checkTitle, slugify, type Task } from "../../../src/core/task.js";
import { blockedBy, describeCycle, findCycle, meetsDependency } from "../../../src/core/task-graph.js";
import { canMove, checkTransition, describeStatus, resolutionAfter } from "../../../src/core/task-status.js";

describe("task rules", () => {
  it("derives ids from titles", () => {
    assert.equal(slugify("Fix login redirect loop!"), "fix-login-redirect-loop");
    assert.equal(slugify("  Ünïcode & Co. — 2nd try "), "unicode-co-2nd-try");
    assert.equal(slugify("!!!"), "task");
    assert.ok(slugify("x".repeat(200)).length <= 56);
  });

  it("checks titles, priorities and body size", () => {
    assert.throws(() => checkTitle("   "), { code: "invalid", message: "title is required and cannot be empty" });
    assert.throws(() => checkTitle("two\nlines"), { code: "invalid" });
    assert.equal(checkPriority("3"), 3);
    assert.throws(() => checkPriority(5), { code: "invalid" });
    assert.throws(() => checkBody("x".repeat(1024 * 1024 + 1)), { code: "too_large" });
  });

  it("counts lengths in characters as a user sees them, not UTF-16 units", () => {
    assert.equal(checkTitle("😀".repeat(101)), "😀".repeat(101));
    assert.equal(checkTitle("é".repeat(200)), "é".repeat(200));
    assert.throws(() => checkTitle("😀".repeat(201)), { code: "invalid", message: "title is 201 characters; the limit is 200" });
    assert.throws(() => checkTaskId("a".repeat(65)), { code: "invalid", message: "a task id is 65 characters; the limit is 64" });
    assert.throws(() => checkTaskRepo("r".repeat(101)), { code: "invalid", message: "repo is 101 characters; the limit is 100" });
    assert.throws(() => checkExtra({ ["k".repeat(101)]: 1 }), { code: "invalid", message: "an extra key is 101 characters; the limit is 100" });
    assert.throws(() => checkExtra({ notes: "x".repeat(64 * 1024) }), { code: "invalid", message: "extra is 65548 bytes as JSON; the limit is 65536 (64 KiB)" });
    assert.throws(() => checkDependsOn(Array.from({ length: 101 }, (_, i) => `t${i}`)), { code: "invalid", message: "depends_on names 101 tasks; the limit is 100" });
  });

  it("refuses a NUL character or a lone surrogate in every text of a task", () => {
    const nul = (fn: () => unknown, message: string) => assert.throws(fn, { code: "invalid", message });
    nul(() => checkTitle("a\u0000b"), "title cannot contain a NUL character");
    nul(() => checkBody("a\u0000b"), "body cannot contain a NUL character");
    nul(() => checkTaskId("a\u0000"), "a task id cannot contain a NUL character");
    nul(() => checkDependsOn(["ok", "b\u0000"]), "a task id cannot contain a NUL character");
    nul(() => checkTaskRepo("r\u0000"), "repo cannot contain a NUL character");
    nul(() => checkExtra({ "k\u0000": 1 }), "an extra key cannot contain a NUL character");
    nul(() => checkExtra({ k: { deep: ["\u0000"] } }), "extra 'k' cannot contain a NUL character");
    nul(() => checkExtra({ k: { "\u0000": 1 } }), "extra 'k' cannot contain a NUL character");
    nul(() => checkTitle("a\ud800b"), "title is not valid Unicode text (it has a lone surrogate)");
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = [deep];
    nul(() => checkExtra({ k: deep }), "extra 'k' nests deeper than 32 levels");
  });

  it("allows only the defined status transitions", () => {
    assert.equal(canMove("open", "in_progress"), true);
    assert.equal(canMove("closed", "in_progress"), false);
    assert.equal(canMove("needs_human", "in_progress"), true);
    assert.throws(() => checkTransition("t", "closed", "needs_human"), { code: "conflict", message: "task 't' cannot go from closed to needs_human; from closed it can go to open" });
    assert.throws(() => checkTransition("t", "open", "open"), { code: "conflict", message: "task 't' is already open" });
  });

  it("finds the cycle a new dependency would close and names it", () => {
    const graph = new Map([["b", ["c"]], ["c", ["d"]], ["d", []], ["x", ["a"]]]);
    assert.equal(findCycle("a", ["b"], graph), undefined);
    assert.deepEqual(findCycle("d", ["a"], new Map([...graph, ["a", ["b"]]])), ["d", "a", "b", "c", "d"]);
    assert.equal(describeCycle(["a", "b", "a"]), "a → b → a");
    assert.deepEqual(findCycle("a", ["a"], graph), ["a", "a"]);
  });

  it("follows a chain of 200,000 dependencies without overflowing the stack", () => {
    const graph = new Map<string, string[]>();
    for (let i = 0; i < 200_000; i++) graph.set(`t${i}`, i === 0 ? [] : [`t${i - 1}`]);
    assert.deepEqual(findCycle("t0", ["t199999"], graph)?.length, 200_001);
  });

  it("is blocked by the dependencies that are not closed as done, a won't-fix one included", () => {
    const tasks: Record<string, Pick<Task, "status" | "resolution">> = {
      done: { status: "closed", resolution: "done" },
      wontfix: { status: "closed", resolution: "wontfix" },
      open: { status: "open" },
      waiting: { status: "needs_human" },
    };
    assert.deepEqual(blockedBy(["done", "wontfix", "open", "waiting"], (id) => tasks[id]), ["wontfix", "open", "waiting"]);
    assert.deepEqual(blockedBy(["done"], (id) => tasks[id]), []);
    assert.deepEqual(blockedBy(["done", "ghost"], (id) => tasks[id]), [], "an id naming no task blocks nothing, as in the store's queries");
    assert.deepEqual([meetsDependency(tasks.done!), meetsDependency(tasks.wontfix!), meetsDependency(tasks.open!)], [true, false, false]);
  });

  it("gives a task a resolution exactly when it is closed: done unless another is named", () => {
    const done = { status: "closed", resolution: "done" } as const;
    const wontfix = { status: "closed", resolution: "wontfix" } as const;
    assert.equal(resolutionAfter("closed", undefined), "done");
    assert.equal(resolutionAfter("closed", "wontfix", { status: "open" }), "wontfix");
    assert.equal(resolutionAfter("closed", undefined, wontfix), "wontfix", "an edit of a closed task keeps its resolution");
    assert.equal(resolutionAfter("closed", "done", wontfix), "done");
    assert.equal(resolutionAfter("open", undefined, done), undefined, "reopening clears it");
    assert.equal(resolutionAfter("in_progress", undefined), undefined);
    assert.throws(() => resolutionAfter("open", "done", done), { code: "invalid", message: "resolution is only for a closed task; the status is open" });
    assert.equal(checkResolution("wontfix"), "wontfix");
    assert.throws(() => checkResolution("fixed"), { code: "invalid", message: 'resolution must be one of done, wontfix, got "fixed"' });
    assert.throws(() => checkResolution(1), { code: "invalid", message: "resolution must be one of done, wontfix, got 1" });
  });

  it("shows how a closed task ended with its status", () => {
    assert.equal(describeStatus({ status: "closed", resolution: "wontfix" }), "closed (won't fix)");
    assert.equal(describeStatus({ status: "closed", resolution: "done" }), "closed (done)");
    assert.equal(describeStatus({ status: "in_progress" }), "in_progress");
  });
});
