import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startCook, type RunningCook } from "../../helpers/cook.js";

// Unknown keys exactly as a user might write them: a block holding a `---` line, an integer past
// 2^53, comments, flow style, odd spacing. Export must give these bytes back.
const extras = `flickr_id: 72157688988508171
notes: |
  Steps:
  ---
  1. log in
estimate: {days: 2,   hours: 0x10}   # rough
labels:
  - auth     # first
  - web
`;
const imported = `---
id: 0008
title: 2024
priority: 1
repo: myapp
created: 2018-09-19 15:19:29
${extras}---
Body line one
---
still the body
`;
// What export writes: the task fields in Cook's form (quoted where YAML would read a number), then the extras untouched.
const exported = `---
id: "0008"
title: "2024"
priority: 1
status: open
repo: myapp
depends_on: []
created: 2018-09-19T15:19:29.000Z
updated: 2018-09-19T15:19:29.000Z
${extras}---
Body line one
---
still the body
`;

interface Shown {
  task: { id: string; title: string; createdAt: string; extra: Record<string, unknown>; body: string };
}

describe("task files keep what the user wrote", () => {
  let cook: RunningCook;
  const dir = mkdtempSync(join(tmpdir(), "cook-task-files-"));

  // A server far from UTC: a time without a zone must still be read as UTC.
  before(async () => {
    cook = await startCook({ env: { TZ: "America/Los_Angeles" } });
    assert.equal((await cook.cli(["repo", "add", "myapp"])).code, 0);
  });
  after(() => cook?.stop());

  const show = async (id: string) => {
    const result = await cook.cli(["task", "show", id, "--json"]);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as Shown;
  };
  const exportOne = async (id: string) => {
    const out = mkdtempSync(join(dir, "export-"));
    assert.equal((await cook.cli(["task", "export", out])).code, 0);
    return readFileSync(join(out, `${id}.md`), "utf8");
  };

  it("imports a file and exports it byte for byte in its unknown keys, with fields read as written", async () => {
    writeFileSync(join(dir, "0008.md"), imported);
    const result = await cook.cli(["task", "import", join(dir, "0008.md")]);
    assert.equal(result.stdout, "imported 1 task\n", result.stderr);
    const { task } = await show("0008");
    assert.deepEqual([task.id, task.title, task.createdAt], ["0008", "2024", "2018-09-19T15:19:29.000Z"]);
    assert.equal(task.extra.flickr_id, "72157688988508171");
    assert.equal(task.extra.notes, "Steps:\n---\n1. log in\n");
    assert.deepEqual(task.extra.estimate, { days: 2, hours: 16 });
    assert.equal(task.body, "Body line one\n---\nstill the body\n");
    assert.equal(await exportOne("0008"), exported);
  });

  it("exports, imports into an empty factory and exports again, byte for byte", async () => {
    const out = mkdtempSync(join(dir, "first-"));
    await cook.cli(["task", "export", out]);
    const empty = await startCook();
    try {
      await empty.cli(["repo", "add", "myapp"]);
      const result = await empty.cli(["task", "import", out]);
      assert.equal(result.code, 0, result.stderr);
      const again = mkdtempSync(join(dir, "again-"));
      await empty.cli(["task", "export", again]);
      assert.deepEqual(readdirSync(again), readdirSync(out));
      for (const name of readdirSync(out)) assert.equal(readFileSync(join(again, name), "utf8"), readFileSync(join(out, name), "utf8"), name);
    } finally {
      await empty.stop();
    }
  });

  it("keeps the written YAML of keys an edit leaves alone and writes a changed key fresh", async () => {
    assert.equal((await cook.cli(["task", "edit", "0008", "--set", "reviewer=bo"])).code, 0);
    const edited = (await exportOne("0008")).replace(/^updated: .*$/m, "updated: 2018-09-19T15:19:29.000Z");
    assert.equal(edited, exported.replace(/\n---\nBody/, "\nreviewer: bo\n---\nBody"));
    assert.equal((await cook.cli(["task", "edit", "0008", "--set", "flickr_id=72157688988508172"])).code, 0);
    const file = await exportOne("0008");
    assert.match(file, /\nflickr_id: "72157688988508172"\nnotes: \|\n {2}Steps:\n {2}---\n/);
    assert.equal((await show("0008")).task.extra.flickr_id, "72157688988508172");
  });
});
