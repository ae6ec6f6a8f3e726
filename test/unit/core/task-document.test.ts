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
      extraYaml: {},
    };
    const text = serializeTask(task);
    const doc = parseTaskDocument(text);
    assert.deepEqual(
      { ...doc },
      {
        id: task.id, title: task.title, priority: 0, status: "needs_human", repo: "r", dependsOn: ["b", "c"], createdAt: task.createdAt, updatedAt: task.updatedAt, body: task.body, extra: task.extra,
        extraYaml: { zeta: "zeta: 1\n", alpha: "alpha:\n  - x\n  - y: true\n", "key with spaces": "key with spaces: null\n" },
      },
    );
    assert.deepEqual(Object.keys(doc.extra), ["zeta", "alpha", "key with spaces"]);
    assert.equal(serializeTask({ ...task, ...doc } as Task), text);
  });

  it("reads a closed task's resolution, and a closed task without one as done", () => {
    const closed = (extra: string) => parseTaskDocument(`---\ntitle: a\nstatus: closed\n${extra}---\n`);
    assert.deepEqual([closed("resolution: wontfix\n").status, closed("resolution: wontfix\n").resolution], ["closed", "wontfix"]);
    assert.equal(closed("").resolution, "done");
    assert.equal(parseTaskDocument("---\ntitle: a\nstatus: open\n---\n").resolution, undefined);
    assert.equal(parseTaskDocument("---\ntitle: a\n---\n").resolution, undefined);
    assert.deepEqual(closed("resolution: wontfix\n").extra, {}, "resolution is a task field, not an extra key");
  });

  it("refuses a resolution with any status but closed, and an unknown one, naming the line", () => {
    assert.equal(
      problem("---\ntitle: a\nstatus: open\nresolution: done\n---\n"),
      "line 4: resolution is only for a closed task, and the status is open: remove the resolution line, or set status: closed",
    );
    assert.equal(problem("---\ntitle: a\nresolution: wontfix\nstatus: in_progress\n---\n"), "line 3: resolution is only for a closed task, and the status is in_progress: remove the resolution line, or set status: closed");
    assert.equal(problem("---\ntitle: a\nstatus: closed\nresolution: fixed\n---\n"), 'line 4: resolution must be one of done, wontfix, got "fixed"');
  });

  it("writes resolution after status for a closed task only", () => {
    const base = asTask("---\nid: a\ntitle: a\nrepo: r\n---\n");
    const wontfix = serializeTask({ ...base, status: "closed", resolution: "wontfix" });
    assert.match(wontfix, /\nstatus: closed\nresolution: wontfix\nrepo: /);
    assert.equal(parseTaskDocument(wontfix).resolution, "wontfix");
    assert.doesNotMatch(serializeTask({ ...base, status: "open" }), /resolution/);
    assert.match(serializeTask({ ...base, status: "closed" }), /\nresolution: done\n/, "a closed task read without one is done");
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

/** A task file in the order serializeTask writes, so exporting it must give back the same bytes. */
const written = (front: string, body = "Body.\n") =>
  `---\nid: t\ntitle: T\npriority: 2\nstatus: open\nrepo: r\ndepends_on: []\ncreated: 2026-01-02T03:04:05.678Z\nupdated: 2026-01-02T03:04:05.678Z\n${front}---\n${body}`;
const asTask = (text: string): Task => {
  const doc = parseTaskDocument(text);
  return { priority: 2, status: "open", dependsOn: [], createdAt: "2026-01-02T03:04:05.678Z", updatedAt: "2026-01-02T03:04:05.678Z", ...doc } as Task;
};

describe("task documents keep what the user wrote", () => {
  it("ends the front matter only at a '---' at the start of a line, not one inside a block scalar", () => {
    const doc = parseTaskDocument("---\ntitle: Block\nnotes: |\n  first\n  ---\n  after\nowner: ana\n---   \nthe body\n---\nstill the body\n");
    assert.deepEqual(doc.extra, { notes: "first\n---\nafter\n", owner: "ana" });
    assert.equal(doc.title, "Block");
    assert.equal(doc.body, "the body\n---\nstill the body\n");
  });

  it("writes values holding '---', '...' and other YAML syntax so that they read back exactly", () => {
    const extra = { notes: "a\n---\nb\n...\n", indented: "  lead\n---", marker: "---", end: "...", hash: "# x", colon: "a: b" };
    const text = serializeTask({ ...asTask(written("")), extra, extraYaml: {} });
    assert.deepEqual(parseTaskDocument(text).extra, extra);
  });

  it("keeps an unknown key's YAML byte for byte and shows a large integer as its digits", () => {
    const front = "flickr_id: 72157688988508171\nestimate: {days: 2,   hours: 0x10}   # rough\nlabels:\n  - auth     # first\n\n  - web\nflush:\n- a\n-\n- b\nnotes: |+\n  kept\n\n# a comment about notes\nsmall: 0008\n";
    const text = written(front);
    const doc = parseTaskDocument(text);
    assert.equal(doc.extra.flickr_id, "72157688988508171");
    assert.deepEqual(doc.extra.estimate, { days: 2, hours: 16 });
    assert.equal(doc.extra.small, 8);
    assert.deepEqual(doc.extra.flush, ["a", null, "b"]);
    assert.deepEqual(Object.keys(doc.extraYaml), Object.keys(doc.extra));
    assert.equal(serializeTask(asTask(text)), text);
  });

  it("writes an extra key fresh when it cannot stand on its own", () => {
    const doc = parseTaskDocument("---\ntitle: x\nbase: &b 1\ncopy: *b\n---\n");
    assert.deepEqual(doc.extra, { base: 1, copy: 1 });
    assert.deepEqual(doc.extraYaml, { base: "base: &b 1\n" });
    assert.equal(parseTaskDocument(serializeTask(asTask("---\ntitle: x\nbase: &b 1\ncopy: *b\n---\n"))).extra.copy, 1);
  });

  it("reads task fields as the text written, never as a number, boolean or null", () => {
    const read = (field: string, value: string) => (parseTaskDocument(`---\n${field === "title" ? "" : "title: t\n"}${field}: ${value}\n---\n`) as unknown as Record<string, unknown>)[field === "depends_on" ? "dependsOn" : field];
    assert.equal(read("id", "42"), "42");
    assert.equal(read("id", "0008"), "0008");
    for (const title of ["2024", "yes", "1e3", "0x10", "true", "null", "~", "12345678901234567890", "-.inf"]) assert.equal(read("title", title), title);
    assert.equal(read("title", '"2024"'), "2024");
    assert.equal(read("repo", "2024"), "2024");
    assert.deepEqual(read("depends_on", "[0008, 42]"), ["0008", "42"]);
    assert.equal(read("priority", "02"), 2);
    assert.equal(problem("---\ntitle: t\npriority: 0x2\n---\n"), 'line 3: priority must be an integer from 0 (critical) to 4 (someday), got "0x2"');
    assert.equal(problem("---\ntitle: [a]\n---\n"), "line 2: title must be a single value, not a list");
    assert.equal(problem("---\ntitle:\n---\n"), "line 2: title is required and cannot be empty");
    const text = serializeTask(asTask(written("").replace("id: t", "id: 0008").replace("title: T", 'title: "2024"')));
    assert.match(text, /^id: "0008"\ntitle: "2024"\n/m);
    assert.deepEqual([parseTaskDocument(text).id, parseTaskDocument(text).title], ["0008", "2024"]);
  });

  it("reads a date-time without a zone as UTC, whatever the zone of the machine", () => {
    const zone = process.env.TZ;
    process.env.TZ = "America/Los_Angeles";
    try {
      const doc = parseTaskDocument("---\ntitle: t\ncreated: 2018-09-19 15:19:29\nupdated: 2018-09-19T17:19:29.25+02:00\n---\n");
      assert.deepEqual([doc.createdAt, doc.updatedAt], ["2018-09-19T15:19:29.000Z", "2018-09-19T15:19:29.250Z"]);
      assert.equal(parseTaskDocument("---\ntitle: t\ncreated: 2018-09-19\n---\n").createdAt, "2018-09-19T00:00:00.000Z");
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
    for (const bad of ["2018-02-30", "March 7, 2020", "2018-09-19 24:00:00", "0000-01-01", "2018-09-19T10:00+25:00"]) {
      assert.match(problem(`---\ntitle: t\ncreated: ${bad}\n---\n`), /^line 3: created must be a date and time like 2018-09-19 15:19:29 \(UTC\)/, bad);
    }
  });

  it("keeps the body byte for byte: CRLF, a leading blank line, a lone CR", () => {
    const doc = parseTaskDocument("---\r\ntitle: t\r\nowner: ana\r\n---\r\n\r\n\r\nline one\r\nline\rtwo");
    assert.deepEqual([doc.title, doc.extra.owner, doc.body], ["t", "ana", "\r\nline one\r\nline\rtwo"]);
    assert.equal(parseTaskDocument(serializeTask({ ...asTask("---\ntitle: t\n---\n"), body: "\r\nx" })).body, "\r\nx");
  });

  it("keeps extra keys named like Object.prototype's members as plain keys (found by the round-trip property test)", () => {
    const file = "---\ntitle: t\nvalueOf: {}\ntoString: x\n__proto__: {polluted: true}\nconstructor: 1\nhasOwnProperty: 2\n---\n";
    const doc = parseTaskDocument(file);
    assert.deepEqual(Object.keys(doc.extra), ["valueOf", "toString", "__proto__", "constructor", "hasOwnProperty"]);
    assert.equal(Object.getPrototypeOf(doc.extra), Object.prototype);
    assert.equal((doc.extra as { polluted?: unknown }).polluted, undefined);
    const written = serializeTask({ ...asTask("---\ntitle: t\n---\n"), extra: { valueOf: {}, toString: "x" }, extraYaml: {} });
    assert.match(written, /^valueOf: \{\}$/m);
    assert.doesNotMatch(written, /native code/);
    assert.deepEqual(parseTaskDocument(written).extra, { valueOf: {}, toString: "x" });
  });

  it("reads a parent, writes it only when there is one, and reads `parent:` with nothing as none", () => {
    const withParent = parseTaskDocument("---\nid: cart\ntitle: Cart\nparent: checkout\n---\n");
    assert.equal(withParent.parent, "checkout");
    assert.deepEqual(withParent.extra, {}, "parent is a task field, not an extra key");
    assert.equal(parseTaskDocument("---\ntitle: Cart\nparent:\n---\n").parent, null);
    assert.equal(parseTaskDocument("---\ntitle: Cart\n---\n").parent, undefined);
    assert.match(problem("---\ntitle: Cart\nparent: Not An Id\n---\n"), /^line 3: .*not a valid task id/);
    assert.match(problem("---\ntitle: Cart\nparent: [a, b]\n---\n"), /^line 3: /);
    const task: Task = { id: "cart", title: "Cart", priority: 2, status: "open", repo: "shop", dependsOn: [], body: "", createdAt: "2026-01-01T00:00:00.000Z", updatedAt: "2026-01-01T00:00:00.000Z", extra: {}, extraYaml: {} };
    assert.doesNotMatch(serializeTask(task), /parent/);
    assert.match(serializeTask({ ...task, parent: "checkout" }), /^depends_on: \[\]\nparent: checkout\ncreated: /m);
  });
});
