import { randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { zeroSha } from "../core/names.js";
import type { ServerConfig } from "../config/server-config.js";
import type { Db } from "../db/db.js";
import { insertRefUpdates } from "../db/ref-update-store.js";
import type { EventLog } from "../events/event-log.js";
import { newEvent } from "../events/event.js";
import { subjects } from "../events/subjects.js";
import type { Git } from "../git/git.js";
import { branchExists, headBranch } from "../git/refs.js";
import type { HookCall } from "./hook-call.js";
import { checkPush, type RefUpdate, type Verdict } from "./ref-policy.js";
import { requireRepo } from "./repos.js";

/** The per-server secret hooks prove themselves with; made once, kept in the data dir (0600). */
export function loadHookSecret(dataDir: string): string {
  const file = join(dataDir, "hook-secret");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const secret = randomBytes(32).toString("hex");
  writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: "wx" });
  return secret;
}

export function hookSecretMatches(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface HookDeps {
  dataDir: string;
  db: Db;
  events: EventLog;
  git: Git;
  rules: ServerConfig["forge"];
}

/** pre-receive: the policy decision for the whole push, before any ref moves. */
export async function decidePush(deps: HookDeps, call: HookCall): Promise<Verdict> {
  const gitDir = requireRepo(deps.dataDir, call.repo);
  // No git process per push: HEAD is read from its file and the branch asked of the repo's reader.
  // A detached HEAD names no default branch: only [forge] protected_branches are protected then.
  const defaultBranch = await headBranch(deps.git, gitDir);
  const defaultBranchExists = defaultBranch !== undefined && (await branchExists(deps.git, gitDir, defaultBranch));
  return checkPush({ repo: call.repo, defaultBranch, defaultBranchExists, actor: call.pusher, rules: deps.rules }, call.updates);
}

function eventFor(repo: string, update: RefUpdate, data: object) {
  const action = update.oldSha === zeroSha ? "created" : update.newSha === zeroSha ? "deleted" : "pushed";
  if (update.ref.startsWith("refs/heads/")) {
    const branch = update.ref.slice("refs/heads/".length);
    // A branch's `created` is the branch service's to announce, once, whichever way the branch came
    // (branches/track-pushes.ts makes the record of a pushed one): the forge reports the push.
    return newEvent(subjects.branch(repo, branch, action === "deleted" ? "deleted" : "pushed"), repo, { branch, data });
  }
  if (update.ref.startsWith("refs/tags/")) {
    const tag = update.ref.slice("refs/tags/".length);
    return newEvent(subjects.tag(repo, tag, action), repo, { data: { tag, ...data } });
  }
  return undefined;
}

/** post-receive: records every ref the push moved and announces each with its own event, in one transaction. */
export async function recordPush(deps: HookDeps, call: HookCall): Promise<number> {
  // The refs have moved (post-receive runs after the update): ref listings remembered for pages go.
  deps.git.refsMoved(requireRepo(deps.dataDir, call.repo));
  const pusher = call.pusher.name;
  const { pushOptions } = call;
  const events = call.updates.flatMap((update) => eventFor(call.repo, update, { ref: update.ref, oldSha: update.oldSha, newSha: update.newSha, pusher, pushOptions }) ?? []);
  return deps.db.transaction(async (tx) => {
    // Two statements however many refs moved: a round trip per ref made 10,051 refs take 3.7 s.
    await insertRefUpdates(tx, { repo: call.repo, pusher, pushOptions, updates: call.updates });
    await deps.events.appendMany(tx, events);
    return events.length;
  });
}
