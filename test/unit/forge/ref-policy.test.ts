import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Actor } from "../../../src/core/actor.js";
import { zeroSha } from "../../../src/core/names.js";
import { branchPatternMatches, checkPush, type PushContext, type RefUpdate } from "../../../src/forge/ref-policy.js";

const a = "a".repeat(40);
const b = "b".repeat(40);
const user: Actor = { name: "ana", scope: "user" };
const admin: Actor = { name: "root", scope: "admin" };
const agent: Actor = { name: "bot", scope: "agent:shop/agent/fix" };
const rules = { protectedBranches: ["release/*", "hotfix/**"], tagCreators: "user" as const, tagUpdates: false };

function push(actor: Actor, updates: RefUpdate[], overrides: Partial<PushContext> = {}) {
  return checkPush({ repo: "shop", defaultBranch: "main", defaultBranchExists: true, actor, rules, ...overrides }, updates);
}
const create = (ref: string): RefUpdate => ({ oldSha: zeroSha, newSha: a, ref });
const update = (ref: string): RefUpdate => ({ oldSha: a, newSha: b, ref });
const remove = (ref: string): RefUpdate => ({ oldSha: a, newSha: zeroSha, ref });

describe("ref policy", () => {
  it("lets a push create the default branch while it does not exist, and nothing move it afterwards", () => {
    assert.deepEqual(push(user, [create("refs/heads/main")], { defaultBranchExists: false }), { allowed: true });
    assert.deepEqual(push(user, [create("refs/heads/feature"), create("refs/heads/main")], { defaultBranchExists: false }), { allowed: true });
    assert.equal(push(agent, [create("refs/heads/main")], { defaultBranchExists: false }).allowed, false, "an agent token still pushes only its branch");
    assert.equal(push(user, [create("refs/heads/main")]).allowed, false);
    assert.equal(push(admin, [update("refs/heads/main")]).allowed, false);
    assert.deepEqual(push(admin, [remove("refs/heads/main")]), { allowed: false, reason: "branch 'main' is protected and cannot be deleted" });
  });

  it("protects configured branch patterns like the default branch", () => {
    assert.equal(push(user, [update("refs/heads/release/1.0")]).allowed, false);
    assert.equal(push(user, [create("refs/heads/release/2.0")], { defaultBranchExists: false }).allowed, false);
    assert.equal(push(user, [update("refs/heads/hotfix/a/b")]).allowed, false);
    assert.equal(push(user, [update("refs/heads/release-notes")]).allowed, true);
    assert.equal(push(user, [update("refs/heads/release/1.0/extra")]).allowed, true);
  });

  it("matches * within a path segment and ** across segments", () => {
    assert.equal(branchPatternMatches("release/*", "release/1.0"), true);
    assert.equal(branchPatternMatches("release/*", "release/1.0/x"), false);
    assert.equal(branchPatternMatches("a/**", "a/b/c"), true);
    assert.equal(branchPatternMatches("v1.*", "v1x2"), false, "dots are literal");
  });

  it("limits an agent token to its own branch of its own repo, and keeps it off tags", () => {
    assert.equal(push(agent, [update("refs/heads/agent/fix")]).allowed, true);
    assert.equal(push(agent, [update("refs/heads/agent/other")]).allowed, false);
    assert.equal(push(agent, [update("refs/heads/agent/fix")], { repo: "other" }).allowed, false);
    assert.equal(push(agent, [create("refs/tags/v9")]).allowed, false);
  });

  it("applies the tag rules from config", () => {
    assert.equal(push(user, [create("refs/tags/v1")]).allowed, true);
    assert.equal(push(user, [update("refs/tags/v1")]).allowed, false);
    assert.equal(push(user, [remove("refs/tags/v1")]).allowed, false);
    assert.equal(checkPush({ repo: "shop", defaultBranch: "main", defaultBranchExists: true, actor: user, rules: { ...rules, tagUpdates: true } }, [update("refs/tags/v1")]).allowed, true);
    const adminsOnly = { ...rules, tagCreators: "admin" as const };
    assert.equal(checkPush({ repo: "shop", defaultBranch: "main", defaultBranchExists: true, actor: user, rules: adminsOnly }, [create("refs/tags/v1")]).allowed, false);
    assert.equal(checkPush({ repo: "shop", defaultBranch: "main", defaultBranchExists: true, actor: admin, rules: adminsOnly }, [create("refs/tags/v1")]).allowed, true);
    const nobody = { ...rules, tagCreators: "nobody" as const };
    assert.equal(checkPush({ repo: "shop", defaultBranch: "main", defaultBranchExists: true, actor: admin, rules: nobody }, [create("refs/tags/v1")]).allowed, false);
  });

  it("refuses the whole push when one ref breaks a rule, naming that ref", () => {
    assert.deepEqual(push(user, [create("refs/heads/feature"), update("refs/heads/main")]), {
      allowed: false,
      reason: "branch 'main' is protected: it moves only by merging a branch whose gates passed; push to another branch",
    });
  });

  it("allows notes for people but no other ref namespaces", () => {
    assert.equal(push(user, [update("refs/notes/commits")]).allowed, true);
    assert.equal(push(agent, [update("refs/notes/commits")]).allowed, false);
    assert.equal(push(admin, [create("refs/for/main")]).allowed, false);
    assert.equal(push(admin, [create("refs/archive/old")]).allowed, false);
  });
});
