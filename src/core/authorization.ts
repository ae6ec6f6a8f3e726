import type { Actor } from "./actor.js";
import { CookError } from "./errors.js";

/**
 * What a request does. `read`: see a repo's code, refs, tasks and events. `push`: send refs over
 * git (which refs, the pre-receive policy decides). `change`: create or edit tasks, repos and
 * custom events. `administer`: tokens, removing repos, importing from the server's own disk or network.
 */
export type Action = "read" | "push" | "change" | "administer";

/** What is acted on: one repo (and everything in it), or the factory as a whole (lists across repos, tokens). */
export type Resource = { readonly repo: string; readonly branch?: string } | "factory";

/** The one branch an agent token may push (and run commands in), or undefined for people. */
export function agentBranchOf(actor: Actor): string | undefined {
  if (!actor.scope.startsWith("agent:")) return undefined;
  const rest = actor.scope.slice("agent:".length);
  return rest.slice(rest.indexOf("/") + 1);
}

/** The one repo an agent token is limited to, or undefined for people. */
export function agentRepoOf(actor: Actor): string | undefined {
  if (!actor.scope.startsWith("agent:")) return undefined;
  return actor.scope.slice("agent:".length).split("/")[0];
}

/**
 * The one authorization decision of the factory, used by the API, the web pages, SSE streams and
 * git alike (scope × action × resource):
 *
 * | scope                 | read / push              | change            | administer |
 * |-----------------------|--------------------------|-------------------|------------|
 * | admin                 | yes                      | yes               | yes        |
 * | user                  | yes                      | yes               | no (403)   |
 * | agent:<repo>/<branch> | its repo only            | no (403)          | no (403)   |
 *
 * (an agent asking anything about another repo gets 404, whatever the action)
 * | nobody                | 401                      | 401               | 401        |
 *
 * An agent asking about another repo is told it does not exist (404), so a token leaked from one
 * environment cannot even list what else the factory holds.
 * Throws CookError unauthenticated | forbidden | not_found; returns the actor when allowed.
 */
export function authorize(actor: Actor | undefined, action: Action, resource: Resource): Actor {
  if (!actor) throw new CookError("unauthenticated", "authentication required: send a token (cook token create) as Bearer or Basic password");
  if (actor.scope === "admin") return actor;
  if (actor.scope === "user") {
    if (action === "administer") throw new CookError("forbidden", "this needs a token with 'admin' scope; yours is 'user'");
    return actor;
  }
  const agentRepo = agentRepoOf(actor);
  if (resource !== "factory" && resource.repo !== agentRepo) throw new CookError("not_found", `no repo named '${resource.repo}'`);
  if (resource === "factory" || (action !== "read" && action !== "push")) {
    throw new CookError("forbidden", `an agent token may only read its own repo and push its own branch (${actor.scope.slice("agent:".length)})`);
  }
  // A branch named with a push (running commands in its environment, attaching to it) must be the agent's own.
  if (action === "push" && resource.branch !== undefined && resource.branch !== agentBranchOf(actor)) {
    throw new CookError("forbidden", `an agent token may only work on its own branch (${actor.scope.slice("agent:".length)})`);
  }
  return actor;
}

/** Whether `authorize` would let the actor do this: for choosing what to show or how to proceed, not for guarding. */
export function may(actor: Actor | undefined, action: Action, resource: Resource): boolean {
  try {
    authorize(actor, action, resource);
    return true;
  } catch {
    return false;
  }
}
