import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseTaskDocument, serializeTask, withNote } from "../../../src/core/task-document.js";
import type { Task } from "../../../src/core/task.js";

const sample = `---
id: fix-login-bug
title: Fix login redirect loop
priority: 3
status: open
repo: myapp
depends_on: []
owner: ana
labels: [auth, web]
estimate: {days: 2}
---
When users log in from /settings they get stuck in a redirect loop.
`;

function problem(text: string): string {
  try {
    parseTaskDocument(text);
  } catch (err) {
    return (err as Error).message;
  }
  return "(parsed)";
}

describe("task documents", () => {
  it("reads the known fields, the body and every extra key in order", () => {
    const doc = parseTaskDocument(sample);
    assert.deepEqual(
      { id: doc.id, title: doc.title, priority: doc.priority, status: doc.status, repo: doc.repo, dependsOn: doc.dependsOn },
      { id: "fix-login-bug", title: "Fix login redirect loop", priority: 3, status: "open", repo: "myapp", dependsOn: [] },
    );
    assert.equal(doc.body, "When users log in from /settings they get stuck in a redirect loop.\n");
    assert.deepEqual(Object.keys(doc.extra), ["owner", "labels", "estimate"]);
    assert.deepEqual(doc.extra.estimate, { days: 2 });
  });

  it("writes a task back so that reading it again gives the same task", () => {
    const task: Task = {
      id: "a",
      title: "Quote: \"yes\" and: colons",
      priority: 0,
      status: "needs_human",
      repo: "r",
      dependsOn: ["b", "c"],
      body: "\nstarts with a blank line\n\n- and a list\nno final newline",
      createdAt: "2026-01-02T03:04:05.678Z",
      updatedAt: "2026-02-03T04:05:06.789Z",
      extra: { zeta: 1, alpha: ["x", { y: true }], "key with spaces": null },
    };
    const text = serializeTask(task);
    const doc = parseTaskDocument(text);
    assert.deepEqual(
      { ...doc },
      { id: task.id, title: task.title, priority: 0, status: "needs_human", repo: "r", dependsOn: ["b", "c"], createdAt: task.createdAt, updatedAt: task.updatedAt, body: task.body, extra: task.extra },
    );
    assert.deepEqual(Object.keys(doc.extra), ["zeta", "alpha", "key with spaces"]);
    assert.equal(serializeTask({ ...task, ...doc } as Task), text);
  });

  it("names the line and the problem of malformed front matter", () => {
    assert.equal(problem("no front matter\n"), "line 1: a task file starts with a '---' line, then YAML front matter, then another '---' line");
    assert.equal(problem("---\ntitle: a\n"), "line 1: the front matter is not closed: add a '---' line after it");
    assert.match(problem("---\ntitle: ok\nlabels: [a, b\n---\n"), /^line 3: /);
    assert.equal(problem("---\ntitle: a\npriority: urgent\n---\n"), 'line 3: priority must be an integer from 0 (critical) to 4 (someday), got "urgent"');
    assert.equal(problem("---\ntitle: a\n\nstatus: done\n---\n"), 'line 4: status must be one of open, in_progress, needs_human, closed, got "done"');
    assert.equal(problem("---\ntitle: a\ntitle: b\n---\n"), "line 3: Map keys must be unique");
    assert.equal(problem("---\n- a list\n---\n"), "line 2: the front matter must be a set of key: value lines");
    assert.equal(problem("---\ntitle: '  '\n---\n"), "line 2: title is required and cannot be empty");
    assert.equal(problem("---\ntitle: x\ndepends_on: [Not An Id]\n---\n"), "line 3: 'Not An Id' is not a valid task id: a task id is 1-64 lowercase letters, digits and '-', starting with a letter or digit");
  });

  it("puts a note above the front matter that parsing ignores, replacing an earlier one", () => {
    const noted = withNote(withNote(sample, "error: first"), "error: second");
    assert.match(noted, /^<!-- cook: error: second -->\n---\n/);
    assert.equal(noted.match(/<!-- cook:/g)?.length, 1);
    assert.equal(parseTaskDocument(noted).title, "Fix login redirect loop");
    assert.equal(problem(withNote("---\npriority: 9\n---\n", "error: x")), "line 3: priority must be an integer from 0 (critical) to 4 (someday), got 9");
  });
});
