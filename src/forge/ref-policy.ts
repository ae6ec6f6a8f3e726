import type { Actor } from "../core/actor.js";
import { zeroSha } from "../core/names.js";
import type { ServerConfig } from "../config/server-config.js";

export interface RefUpdate {
  oldSha: string;
  newSha: string;
  ref: string;
}

export interface PushContext {
  repo: string;
  /** The branch HEAD names; undefined when HEAD is detached. */
  defaultBranch: string | undefined;
  /** Whether refs/heads/<defaultBranch> exists; while it does not, a push may create it. */
  defaultBranchExists: boolean;
  actor: Actor;
  rules: Pick<ServerConfig["forge"], "protectedBranches" | "tagCreators" | "tagUpdates">;
}

export type Verdict = { allowed: true } | { allowed: false; reason: string };

/** `*` matches within one path segment, `**` across segments. */
export function branchPatternMatches(pattern: string, branch: string): boolean {
  const regex = pattern
    .split("**")
    .map((part) => part.split("*").map((text) => text.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join("[^/]*"))
    .join(".*");
  return new RegExp(`^${regex}$`).test(branch);
}

function checkBranch(push: PushContext, update: RefUpdate, branch: string): string | undefined {
  const { actor } = push;
  // An agent's token carries its one branch: it cannot touch anyone else's work.
  if (actor.scope.startsWith("agent:") && actor.scope !== `agent:${push.repo}/${branch}`) {
    return `${update.ref}: this agent token may only push to ${actor.scope.slice("agent:".length)}`;
  }
  const isProtected = branch === push.defaultBranch || push.rules.protectedBranches.some((pattern) => branchPatternMatches(pattern, branch));
  if (!isProtected) return undefined;
  if (update.newSha === zeroSha) return `branch '${branch}' is protected and cannot be deleted`;
  // A push is how the default branch comes into being, also when other branches were pushed first
  // (else HEAD would point nowhere for good); once it exists, only a merge moves it.
  if (!push.defaultBranchExists && branch === push.defaultBranch && update.oldSha === zeroSha) return undefined;
  return `branch '${branch}' is protected: it moves only by merging a branch whose gates passed; push to another branch`;
}

function checkTag(push: PushContext, update: RefUpdate, tag: string): string | undefined {
  const { actor, rules } = push;
  if (actor.scope.startsWith("agent:")) return `${update.ref}: agent tokens cannot push tags`;
  if (update.oldSha !== zeroSha && !rules.tagUpdates) {
    return `tag '${tag}' already exists: tags cannot be ${update.newSha === zeroSha ? "deleted" : "moved"} here`;
  }
  if (update.oldSha === zeroSha) {
    if (rules.tagCreators === "nobody") return `tag '${tag}': tags cannot be pushed to this factory`;
    if (rules.tagCreators === "admin" && actor.scope !== "admin") return `tag '${tag}': only admins may push tags`;
  }
  return undefined;
}

/** Decides a whole push; the first refusal names the ref and the rule. */
export function checkPush(push: PushContext, updates: RefUpdate[]): Verdict {
  for (const update of updates) {
    let reason: string | undefined;
    if (update.ref.startsWith("refs/heads/")) reason = checkBranch(push, update, update.ref.slice("refs/heads/".length));
    else if (update.ref.startsWith("refs/tags/")) reason = checkTag(push, update, update.ref.slice("refs/tags/".length));
    else if (update.ref.startsWith("refs/notes/") && (push.actor.scope === "user" || push.actor.scope === "admin")) reason = undefined;
    else reason = `${update.ref}: only branches (refs/heads/) and tags (refs/tags/) can be pushed`;
    if (reason) return { allowed: false, reason };
  }
  return { allowed: true };
}
