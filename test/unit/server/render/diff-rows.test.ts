import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderDiff } from "../../../../src/server/render/diff-rows.js";

const zero = "0".repeat(40);
const patchOf = (text: string) => Buffer.from(text, "latin1");
const raw = (status: string, ...paths: string[]) => `:000000 100644 ${zero} ${"1".repeat(40)} ${status}\0${paths.join("\0")}\0`;

describe("renderDiff", () => {
  it("makes escaped, numbered rows from git's output, one table body per file", () => {
    const patch = patchOf(`${raw("A", "a <b>.txt")}\0diff --git a/x b/x\nnew file mode 100644\n--- /dev/null\n+++ b/x\n@@ -0,0 +1,2 @@\n+<script>\n+two\n`);
    const diff = renderDiff({ patch, complete: true });
    assert.equal(diff.truncated, false);
    assert.equal(diff.files.length, 1);
    const [file] = diff.files;
    assert.equal(file!.newPath, "a <b>.txt");
    assert.equal(file!.rowCount, 3);
    assert.equal(
      file!.rows,
      [
        '<tr class="hunk"><td class="ln"></td><td class="ln"></td><td class="src">@@ -0,0 +1,2 @@</td></tr>',
        '<tr class="add"><td class="ln"></td><td class="ln">1</td><td class="src">&lt;script&gt;</td></tr>',
        '<tr class="add"><td class="ln"></td><td class="ln">2</td><td class="src">two</td></tr>',
      ].join("\n"),
    );
  });

  it("shows output git was stopped in as truncated, without the record it cut in half", () => {
    const whole = `${raw("A", "one.txt")}${raw("R100", "old.txt", "new.txt")}`;
    const cutInRename = whole.slice(0, whole.length - "new.txt\0".length);
    const diff = renderDiff({ patch: patchOf(cutInRename), complete: false });
    assert.deepEqual(diff.files.map((file) => file.newPath), ["one.txt"]);
    assert.equal(diff.truncated, true);
    const cutInPath = renderDiff({ patch: patchOf(whole.slice(0, raw("A", "one.txt").length - 3)), complete: false });
    assert.deepEqual(cutInPath.files, []);
  });

  it("shows new files as added up to the row limit, then says why the rest is not shown", () => {
    const diff = renderDiff({
      maxRows: 4,
      added: [
        { path: "a.txt", mode: "100644", content: Buffer.from("1\n2\n") },
        { path: "b.txt", mode: "100644", content: Buffer.from("3\n4\n5\n") },
        { path: "c.txt", mode: "100644", content: Buffer.from("6\n") },
        { path: "gone.txt", note: "gone since git listed it" },
        { path: "link", mode: "120000", content: Buffer.from("target") },
      ],
    });
    assert.deepEqual(
      diff.files.map((file) => [file.newPath, file.rowCount, file.note ?? ""]),
      [
        ["a.txt", 3, ""],
        ["b.txt", 1, "cut short: the page shows 4 lines of untracked files at most"],
        ["c.txt", 0, "not shown: the page shows the content of the first untracked files only"],
        ["gone.txt", 0, "gone since git listed it"],
        ["link", 0, "not shown: the page shows the content of the first untracked files only"],
      ],
    );
  });
});
