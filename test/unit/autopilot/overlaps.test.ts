import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { expectedFilesOf, filePatternMatcher, findOverlap, heldBackBy, overlapReason, patternsMayOverlap, type RunningBranch } from "../../../src/autopilot/overlaps.js";

const running = (branch: string, changed: string[], expected: string[] = [], task?: { id: string; parent?: string }): RunningBranch => ({ branch, taskId: task?.id, parent: task?.parent, changed, expected });

describe("a task's expected files", () => {
  it("are front matter's files: a list of strings, or one comma-separated string that keeps {a,b} braces whole", () => {
    assert.deepEqual(expectedFilesOf({ extra: { files: ["src/a.ts", "docs/"] } }), { patterns: ["src/a.ts", "docs/"], problems: [] });
    assert.deepEqual(expectedFilesOf({ extra: { files: "src/a.ts, src/{b,c}.ts ,docs/" } }), { patterns: ["src/a.ts", "src/{b,c}.ts", "docs/"], problems: [] });
    assert.deepEqual(expectedFilesOf({ extra: { files: " src/a.ts , src/a.ts" } }).patterns, ["src/a.ts"], "trimmed, no repeats");
  });

  it("are unknown, not empty-handed, when the task says nothing", () => {
    assert.deepEqual(expectedFilesOf({ extra: {} }), { patterns: [], problems: [] });
    assert.deepEqual(expectedFilesOf({ extra: { files: [] } }), { patterns: [], problems: [] });
    assert.deepEqual(expectedFilesOf({ extra: { files: null } }), { patterns: [], problems: [] });
  });

  it("report every pattern that escapes the repo, is absolute, not normalized, in .git or negated, and keep the valid ones", () => {
    const { patterns, problems } = expectedFilesOf({ extra: { files: ["../secrets", "/etc/passwd", "src//a.ts", ".git/config", "!src/a.ts", "src/ok.ts", 7] } });
    assert.deepEqual(patterns, ["src/ok.ts"]);
    assert.deepEqual(problems, [
      "'../secrets' has a '..' segment",
      "'/etc/passwd' is absolute",
      "'src//a.ts' is not normalized (write 'src/a.ts')",
      "'.git/config' is a .git folder or inside one",
      "'!src/a.ts' is negated: list the files the task expects to change",
      "files item 7 is not a text",
    ]);
    assert.deepEqual(expectedFilesOf({ extra: { files: { src: true } } }).problems, ["files is neither a list of paths nor one comma-separated text"]);
  });
});

describe("a pattern against a changed file", () => {
  const matches = (pattern: string, file: string) => filePatternMatcher(pattern)(file);

  it("matches a literal path exactly, and everything under it when it is a folder", () => {
    assert.equal(matches("src/a.ts", "src/a.ts"), true);
    assert.equal(matches("src/a.ts", "src/a.tsx"), false);
    assert.equal(matches("src/a", "src/a/b.ts"), true);
    assert.equal(matches("src/a", "src/ab.ts"), false);
  });

  it("matches everything under a folder written with a trailing slash, and nothing beside it", () => {
    assert.equal(matches("src/db/", "src/db/task-store.ts"), true);
    assert.equal(matches("src/db/", "src/db/migrations/0001.sql"), true);
    assert.equal(matches("src/db/", "src/dbx.ts"), false);
    assert.equal(matches("src/db/", "test/src/db/x.ts"), false);
  });

  it("reads globs: * within a folder, ** across folders, braces, dot files", () => {
    assert.equal(matches("src/**/*.ts", "src/a/b/c.ts"), true);
    assert.equal(matches("src/**/*.ts", "src/c.ts"), true);
    assert.equal(matches("src/**/*.ts", "src/.hidden/c.ts"), true);
    assert.equal(matches("src/**/*.ts", "test/c.ts"), false);
    assert.equal(matches("src/*.ts", "src/a.ts"), true);
    assert.equal(matches("*.md", "docs/a.md"), false);
    assert.equal(matches("src/{a,b}.ts", "src/b.ts"), true);
    assert.equal(matches("src/*", "src/lib/deep/x.ts"), true, "src/lib is matched, so what is inside it is too");
  });
});

describe("two patterns", () => {
  it("meet when equal, or when one literal path is a folder above the other", () => {
    assert.equal(patternsMayOverlap("src/a.ts", "src/a.ts"), true);
    assert.equal(patternsMayOverlap("src/", "src/a.ts"), true);
    assert.equal(patternsMayOverlap("src/a.ts", "src"), true);
    assert.equal(patternsMayOverlap("src/a.ts", "src/b.ts"), false);
    assert.equal(patternsMayOverlap("src/a", "src/ab.ts"), false);
    assert.equal(patternsMayOverlap("src/db/", "src/dbx/"), false);
  });

  it("meet when one's literal start before its first glob character begins the other", () => {
    assert.equal(patternsMayOverlap("src/**/*.ts", "src/db/x.ts"), true);
    assert.equal(patternsMayOverlap("src/db/x.ts", "src/**"), true);
    assert.equal(patternsMayOverlap("src/a*.ts", "src/**/*.md"), true, "conservative: may match a common path");
    assert.equal(patternsMayOverlap("*.md", "deep/down/x.ts"), true, "a glob at the top may match anything");
    assert.equal(patternsMayOverlap("src/a*.ts", "src/b.ts"), false);
    assert.equal(patternsMayOverlap("src/**", "test/**"), false);
    assert.equal(patternsMayOverlap("src/{a,b}.ts", "test/a.ts"), false);
  });
});

describe("overlap with running branches", () => {
  it("is the first branch by name whose changed files the patterns match, or whose expected patterns they meet", () => {
    const branches = [running("zeta", ["src/a.ts"]), running("alpha", ["README.md", "src/db/x.ts", "src/db/y.ts"], ["src/ui/"])];
    assert.deepEqual(findOverlap(["src/db/", "src/ui/button.ts"], branches), { branch: "alpha", files: ["src/db/x.ts", "src/db/y.ts", "src/ui/"] });
    assert.deepEqual(findOverlap(["src/a.ts"], branches), { branch: "zeta", files: ["src/a.ts"] });
    assert.equal(findOverlap(["docs/"], branches), undefined);
    assert.equal(findOverlap([], branches), undefined);
  });

  it("is said as a reason naming the branch and at most three files", () => {
    assert.equal(overlapReason({ branch: "a", files: ["x.ts"] }), "its files overlap branch 'a' (x.ts)");
    assert.equal(overlapReason({ branch: "a", files: ["1", "2", "3", "4", "5"] }), "its files overlap branch 'a' (1, 2, 3 and 2 more)");
  });

  it("holds back a task with invalid files, never one without files, and not for its own or its parents' branches", () => {
    const branches = [running("parent", ["src/a.ts"], [], { id: "parent", parent: "grand" }), running("grand", ["src/a.ts"], [], { id: "grand" })];
    assert.match(heldBackBy({ id: "t", extra: { files: "../x" } }, branches)!.reason, /^its front-matter files are invalid: '\.\.\/x' has a '\.\.' segment$/);
    assert.equal(heldBackBy({ id: "t", extra: {} }, branches), undefined);
    assert.equal(heldBackBy({ id: "child", extra: { files: ["src/"] }, parent: "parent" }, branches), undefined);
    assert.deepEqual(heldBackBy({ id: "sibling", extra: { files: ["src/"] } }, branches)?.overlaps, { branch: "grand", files: ["src/a.ts"] });
    assert.equal(heldBackBy({ id: "own", extra: { files: ["src/"] } }, [running("own", ["src/a.ts"], [], { id: "own" })]), undefined);
  });
});
