import type { Context } from "koa";
import { agentRepoOf, type Resource } from "../core/authorization.js";
import type { Actor } from "../core/actor.js";
import type { Db } from "../db/db.js";
import { getTask } from "../tasks/read-tasks.js";
import { resolveBranch } from "../branches/deps.js";
import type { Branch } from "../core/branch.js";
import { CookError } from "../core/errors.js";
import { isId } from "../core/ids.js";

/**
 * What a route acts on, read from the request, for `permit`. Each returns the repo a request
 * names, or "factory" when it spans every repo.
 */

/** The repo in a path parameter: `/repos/:repo/…`, `/api/repos/:name`. */
export const repoParam = (name: string) => (ctx: Context): Resource => ({ repo: String(ctx.params[name] ?? "") });

/** `?repo=R` narrows a listing to one repo; without it the listing spans the factory. */
export function queryRepo(ctx: Context): Resource {
  const repo = ctx.query.repo;
  return typeof repo === "string" && repo !== "" ? { repo } : "factory";
}

/** A body field `repo` (a form or a JSON object) names the repo a change lands in. */
export function bodyRepo(ctx: Context): Resource {
  const repo = (ctx.request.body as { repo?: unknown } | undefined)?.repo;
  return typeof repo === "string" && repo !== "" ? { repo } : "factory";
}

/** The repo of the task in `:id`; an unknown task is not_found before anyone is asked. */
export const taskRepo = (deps: { db: Db }) => async (ctx: Context): Promise<Resource> => ({ repo: (await getTask(deps, String(ctx.params.id ?? ""))).repo });

/** The event log: an agent sees its own repo's events, people see the whole factory's. */
export function eventScope(ctx: Context): Resource {
  const actor = ctx.state.actor as Actor | undefined;
  const repo = actor && agentRepoOf(actor);
  return repo === undefined ? "factory" : { repo };
}

/**
 * The repo (and branch) of the branch in `:id` (a brn_ id) or `*ref` (a name, `<repo>/<name>` or
 * an id); unknown is not_found before anyone is asked. The branch is kept in ctx.state.branch.
 */
export const branchResource = (deps: { db: Db }) => async (ctx: Context): Promise<Resource> => {
  const ref = ctx.params.id ?? (ctx.params.ref as unknown as string[] | string | undefined);
  const text = Array.isArray(ref) ? ref.join("/") : String(ref ?? "");
  const actor = ctx.state.actor as Actor | undefined;
  // An agent's names are read in its own repo: it is not told which other repos have a branch of that name.
  const repo = (actor && agentRepoOf(actor)) ?? (typeof ctx.query.repo === "string" && ctx.query.repo !== "" ? ctx.query.repo : undefined);
  const branch = await resolveBranch(deps.db, text, repo);
  ctx.state.branch = branch;
  return { repo: branch.repo, branch: branch.name };
};

/**
 * The branch of a branch page's path, `*ref`: a brn_ id alone, or `<repo>/<name…>` — the first
 * segment is always the repo, so a URL never means a different branch once another repo has one
 * of the same name. Unknown is not_found before anyone is asked; the branch is kept in ctx.state.branch.
 */
export const branchPathResource = (deps: { db: Db }) => async (ctx: Context): Promise<Resource> => {
  const branch = await branchOfPath(deps.db, String(ctx.params.ref ?? ""));
  ctx.state.branch = branch;
  return { repo: branch.repo, branch: branch.name };
};

async function branchOfPath(db: Db, path: string): Promise<Branch> {
  const slash = path.indexOf("/");
  if (slash < 0) {
    if (!isId("brn", path)) throw new CookError("not_found", "a branch page is /branches/<repo>/<branch name> or /branches/<brn_ id>");
    return resolveBranch(db, path);
  }
  return resolveBranch(db, path.slice(slash + 1), path.slice(0, slash));
}

/** `?branch=<brn_ id>` names one branch (its live stream); without it, `?repo=` as queryRepo. */
export const branchQueryResource = (deps: { db: Db }) => async (ctx: Context): Promise<Resource> => {
  const id = ctx.query.branch;
  if (id === undefined) return queryRepo(ctx);
  if (typeof id !== "string" || !isId("brn", id)) throw new CookError("invalid", "branch must be a brn_ id");
  const branch = await resolveBranch(deps.db, id);
  ctx.state.branch = branch;
  return { repo: branch.repo, branch: branch.name };
};
