import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { branchTree, type TreeBranch } from "../../../src/branches/branch-tree.js";

let clock = 0;
const branch = (id: string, name: string, baseBranch = "main", repo = "app"): TreeBranch => ({ id, repo, name, baseBranch, createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, clock++)).toISOString() });
const shape = (branches: readonly TreeBranch[]) => branchTree(branches).map((b) => `${"  ".repeat(b.depth)}${b.name}${b.into ? ` → ${b.into}` : ""}`);

describe("the branch tree", () => {
  it("puts each sub-branch under the branch it merges into, siblings and roots in the order given", () => {
    const epic = branch("1", "epic");
    const cart = branch("2", "cart", "epic");
    const pay = branch("3", "pay", "epic");
    const deep = branch("4", "deep", "cart");
    const other = branch("5", "other");
    assert.deepEqual(shape([other, pay, deep, epic, cart]), ["other", "epic", "  pay → epic", "  cart → epic", "    deep → cart"]);
  });

  it("keeps repos apart, and takes as base only a branch of that name made before the sub-branch", () => {
    const late = branch("2", "x", "epic");
    const epic = branch("3", "epic");
    const elsewhere = branch("4", "y", "epic", "other");
    assert.deepEqual(shape([late, epic, elsewhere]), ["x", "epic", "y"]);
  });

  it("lists every branch once, even with names that point at each other", () => {
    const t = new Date(Date.UTC(2026, 0, 1)).toISOString();
    const a = { id: "a", repo: "app", name: "a", baseBranch: "b", createdAt: t };
    const b = { id: "b", repo: "app", name: "b", baseBranch: "a", createdAt: t };
    assert.deepEqual(branchTree([a, b]).map((x) => x.id).sort(), ["a", "b"]);
  });

  it("handles a chain thousands deep without recursion", () => {
    const chain = Array.from({ length: 5000 }, (_, i) => branch(`c${i}`, `c${i}`, i === 0 ? "main" : `c${i - 1}`));
    const placed = branchTree([...chain].reverse());
    assert.equal(placed.length, 5000);
    assert.equal(placed[4999]!.depth, 4999);
  });
});
