import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { editDiffOf } from "../../../src/agents/edit-diff.js";

describe("the change a file-writing tool call makes", () => {
  it("reads each CLI's write and edit tools", () => {
    assert.deepEqual(editDiffOf("Write", { file_path: "/a", content: "x\ny\n" }), { path: "/a", lines: [{ op: "add", text: "x" }, { op: "add", text: "y" }], more: 0 });
    assert.deepEqual(editDiffOf("edit", { filePath: "b", oldString: "1", newString: "2" })?.lines, [{ op: "del", text: "1" }, { op: "add", text: "2" }]);
    assert.deepEqual(editDiffOf("MultiEdit", { file_path: "c", edits: [{ old_string: "a", new_string: "b" }, { old_string: "c", new_string: "" }] })?.lines, [
      { op: "del", text: "a" },
      { op: "add", text: "b" },
      { op: "gap", text: "…" },
      { op: "del", text: "c" },
    ]);
  });

  it("has nothing for other tools, inputs without a path, or odd input", () => {
    assert.equal(editDiffOf("Bash", { command: "ls" }), undefined);
    assert.equal(editDiffOf("Write", { content: "x" }), undefined);
    assert.equal(editDiffOf("Write", "not an object"), undefined);
    assert.equal(editDiffOf("Edit", { file_path: "a", old_string: 3 }), undefined);
  });

  it("cuts a long write at 400 lines and says how many more", () => {
    const diff = editDiffOf("write_file", { file_path: "big", content: "l\n".repeat(1000) })!;
    assert.equal(diff.lines.length, 400);
    assert.equal(diff.more, 600);
  });
});
