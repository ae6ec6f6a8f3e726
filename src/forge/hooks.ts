import { randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Actor } from "../core/actor.js";
import { parseScope } from "../core/actor.js";
import { CookError } from "../core/errors.js";
import { zeroSha } from "../core/names.js";
import type { ServerConfig } from "../config/server-config.js";
import type { Db } from "../db/db.js";
import { insertRefUpdate } from "../db/ref-update-store.js";
import type { EventLog } from "../events/event-log.js";
import { newEvent } from "../events/event.js";
import { subjects } from "../events/subjects.js";
import type { Git } from "../git/git.js";
import { branchExists, headBranch } from "../git/refs.js";
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

export interface HookCall {
  repo: string;
  pusher: Actor;
  updates: RefUpdate[];
  pushOptions: string[];
}

/** Validates what a hook sent; the hook is trusted (it had the secret), its input is still checked. */
export function parseHookCall(body: unknown): HookCall {
  const input = body as { repo?: unknown; pusher?: unknown; updates?: unknown; pushOptions?: unknown };
  if (!input || typeof input.repo !== "string" || typeof input.pusher !== "string" || !Array.isArray(input.updates)) {
    throw new CookError("invalid", "a hook call needs repo, pusher and updates");
  }
  const pusher = JSON.parse(input.pusher) as Actor;
  if (typeof pusher.name !== "string" || !parseScope(String(pusher.scope))) throw new CookError("invalid", "the hook's pusher is malformed");
  const updates = input.updates.map((u: { oldSha?: unknown; newSha?: unknown; ref?: unknown }) => {
    if (typeof u.oldSha !== "string" || typeof u.newSha !== "string" || typeof u.ref !== "string") throw new CookError("invalid", "malformed ref update");
    return { oldSha: u.oldSha, newSha: u.newSha, ref: u.ref };
  });
  const pushOptions = Array.isArray(input.pushOptions) ? input.pushOptions.filter((o): o is string => typeof o === "string") : [];
  return { repo: input.repo, pusher, updates, pushOptions };
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
  const defaultBranch = await headBranch(deps.git, gitDir);
  const defaultBranchExists = await branchExists(deps.git, gitDir, defaultBranch);
  return checkPush({ repo: call.repo, defaultBranch, defaultBranchExists, actor: call.pusher, rules: deps.rules }, call.updates);
}

function eventFor(repo: string, update: RefUpdate, data: object) {
  const action = update.oldSha === zeroSha ? "created" : update.newSha === zeroSha ? "deleted" : "pushed";
  if (update.ref.startsWith("refs/heads/")) {
    const branch = update.ref.slice("refs/heads/".length);
    return newEvent(subjects.branch(repo, branch, action), repo, { branch, data });
  }
  if (update.ref.startsWith("refs/tags/")) {
    const tag = update.ref.slice("refs/tags/".length);
    return newEvent(subjects.tag(repo, tag, action), repo, { data: { tag, ...data } });
  }
  return undefined;
}

/** post-receive: records every ref the push moved and announces each with its own event, in one transaction. */
export async function recordPush(deps: HookDeps, call: HookCall): Promise<number> {
  requireRepo(deps.dataDir, call.repo);
  return deps.db.transaction(async (tx) => {
    let events = 0;
    for (const update of call.updates) {
      await insertRefUpdate(tx, { repo: call.repo, ...update, pusher: call.pusher.name, pushOptions: call.pushOptions });
      const event = eventFor(call.repo, update, { ref: update.ref, oldSha: update.oldSha, newSha: update.newSha, pusher: call.pusher.name, pushOptions: call.pushOptions });
      if (event) {
        await deps.events.append(tx, event);
        events++;
      }
    }
    return events;
  });
}
