import type { Actor } from "../core/actor.js";
import type { Branch } from "../core/branch.js";
import { CookError } from "../core/errors.js";
import { isId } from "../core/ids.js";
import { showInput } from "../core/show-input.js";
import type { Db, Queryable, Tx } from "../db/db.js";
import { findBranchById, findBranchesNamed } from "../db/branch-store.js";
import type { EventLog } from "../events/event-log.js";
import { newEvent } from "../events/event.js";
import { subjects, type BranchAction } from "../events/subjects.js";
import type { Git } from "../git/git.js";
import type { EnvironmentDeps } from "../environments/deps.js";

/** What the branch service works with; built once by the server (server/services.ts). */
export interface BranchDeps extends EnvironmentDeps {
  dataDir: string;
  db: Db;
  events: EventLog;
  git: Git;
}

export async function appendBranchEvent(deps: { events: EventLog }, tx: Tx, branch: Branch, action: BranchAction, data: object, actor: Actor | string): Promise<void> {
  const by = typeof actor === "string" ? actor : actor.name;
  await deps.events.append(tx, newEvent(subjects.branch(branch.repo, branch.name, action), branch.repo, { branch: branch.name, data: { id: branch.id, ...data, by } }));
}

/**
 * The branch a user means: a `brn_` id, `<repo>/<name>`, or a name alone when one repo has it
 * (an open branch is preferred to ended ones of the same name). Throws not_found, or invalid when
 * the name alone is ambiguous, naming the repos.
 */
export async function resolveBranch(q: Queryable, ref: string, repo?: string): Promise<Branch> {
  if (typeof ref !== "string" || ref === "") throw new CookError("invalid", "name a branch: <name>, <repo>/<name> or its brn_ id");
  if (isId("brn", ref)) {
    const branch = await findBranchById(q, ref);
    if (!branch) throw new CookError("not_found", `no branch with id '${ref}'`);
    return branch;
  }
  const candidates = repo ? await candidatesIn(q, ref, repo) : await candidatesFor(q, ref);
  if (candidates.length === 0) throw new CookError("not_found", `no branch ${showInput(ref)}${repo ? ` in ${repo}` : ""} is tracked`);
  const open = candidates.filter((branch) => branch.status === "open");
  const pool = open.length > 0 ? open : candidates;
  const repos = [...new Set(pool.map((branch) => branch.repo))];
  if (repos.length > 1) throw new CookError("invalid", `${showInput(ref)} names a branch in ${repos.join(", ")}; say <repo>/${ref}`);
  return pool[0]!;
}

/** A name alone, or `<repo>/<name>` (a branch name may contain `/`, so both readings are tried). */
async function candidatesFor(q: Queryable, ref: string): Promise<Branch[]> {
  const byName = await findBranchesNamed(q, ref);
  const slash = ref.indexOf("/");
  if (slash <= 0) return byName;
  const byRepo = await findBranchesNamed(q, ref.slice(slash + 1), ref.slice(0, slash));
  if (byRepo.length > 0) return byRepo;
  return byName;
}

/** In one repo: the name as given, or `<repo>/<name>` with that repo's prefix. */
async function candidatesIn(q: Queryable, ref: string, repo: string): Promise<Branch[]> {
  const byName = await findBranchesNamed(q, ref, repo);
  if (byName.length > 0 || !ref.startsWith(`${repo}/`)) return byName;
  return findBranchesNamed(q, ref.slice(repo.length + 1), repo);
}
