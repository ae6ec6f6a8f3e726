import { parseScope, type Actor, type Scope } from "../core/actor.js";
import { CookError } from "../core/errors.js";
import type { Db } from "../db/db.js";
import { countLiveAdminTokens, insertToken, listTokens as selectTokens, revokeToken as markRevoked, type Token } from "../db/token-store.js";

export type { Token };

export interface CreatedToken {
  token: Token;
  /** Shown once; only its hash is kept. */
  secret: string;
}

const scopeRule = "scope must be admin, user or agent:<repo>/<branch>";

export async function createToken(deps: { db: Db }, input: { name?: unknown; scope?: unknown }, actor: Actor): Promise<CreatedToken> {
  const scope = typeof input.scope === "string" ? parseScope(input.scope) : undefined;
  if (!scope) throw new CookError("invalid", scopeRule);
  const name = input.name === undefined ? `${scope.split(":")[0]}-by-${actor.name}` : input.name;
  if (typeof name !== "string" || !/^[\w.@:/-]{1,64}$/.test(name)) {
    throw new CookError("invalid", "name must be 1-64 letters, digits or . _ - @ : /");
  }
  return insertToken(deps.db, name, scope as Scope);
}

export function listTokens(deps: { db: Db }): Promise<Token[]> {
  return selectTokens(deps.db);
}

export async function revokeToken(deps: { db: Db }, id: number): Promise<Token> {
  const token = await markRevoked(deps.db, id);
  if (!token) throw new CookError("not_found", `no token with id ${id}`);
  return token;
}

/**
 * With auth required and no admin token yet, nobody could create one: the first start makes one
 * and returns its secret for the server to hand to whoever can read its data dir.
 */
export async function createInitialAdminToken(deps: { db: Db }): Promise<CreatedToken | undefined> {
  if ((await countLiveAdminTokens(deps.db)) > 0) return undefined;
  return insertToken(deps.db, "initial-admin", "admin");
}
