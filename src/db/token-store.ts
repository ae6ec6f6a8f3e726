import { createHash, randomBytes } from "node:crypto";
import { parseScope, type Scope } from "../core/actor.js";
import type { Queryable } from "./db.js";

export interface Token {
  id: number;
  name: string;
  scope: Scope;
  createdAt: string;
  lastUsedAt: string | undefined;
  revokedAt: string | undefined;
}

interface TokenRow {
  id: number;
  name: string;
  scope: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
  [key: string]: unknown;
}

const columns = "id, name, scope, created_at, last_used_at, revoked_at";

function toToken(row: TokenRow): Token {
  return {
    id: row.id,
    name: row.name,
    scope: parseScope(row.scope) ?? "user",
    createdAt: row.created_at.toISOString(),
    lastUsedAt: row.last_used_at?.toISOString(),
    revokedAt: row.revoked_at?.toISOString(),
  };
}

function hashSecret(secret: string): Buffer {
  return createHash("sha256").update(secret).digest();
}

/** Creates a token and returns its secret, which is shown once and never stored (a derived secret may be given: env-token.ts). */
export async function insertToken(q: Queryable, name: string, scope: Scope, secret = `cook_${randomBytes(32).toString("base64url")}`): Promise<{ token: Token; secret: string }> {
  const rows = await q.query<TokenRow>(`INSERT INTO tokens (name, scope, secret_hash) VALUES ($1, $2, $3) RETURNING ${columns}`, [
    name,
    scope,
    hashSecret(secret),
  ]);
  return { token: toToken(rows[0]!), secret };
}

/** The live token with this secret, if any; records its use. */
export async function findTokenBySecret(q: Queryable, secret: string): Promise<Token | undefined> {
  const rows = await q.query<TokenRow>(
    `UPDATE tokens SET last_used_at = now() WHERE secret_hash = $1 AND revoked_at IS NULL RETURNING ${columns}`,
    [hashSecret(secret)],
  );
  return rows[0] ? toToken(rows[0]) : undefined;
}

export async function listTokens(q: Queryable): Promise<Token[]> {
  const rows = await q.query<TokenRow>(`SELECT ${columns} FROM tokens ORDER BY id`);
  return rows.map(toToken);
}

export async function revokeToken(q: Queryable, id: number): Promise<Token | undefined> {
  const rows = await q.query<TokenRow>(
    `UPDATE tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 RETURNING ${columns}`,
    [id],
  );
  return rows[0] ? toToken(rows[0]) : undefined;
}

export async function countLiveAdminTokens(q: Queryable): Promise<number> {
  const rows = await q.query<{ count: number }>("SELECT count(*)::int AS count FROM tokens WHERE scope = 'admin' AND revoked_at IS NULL");
  return rows[0]?.count ?? 0;
}

/** Revokes every live token of this name (an environment's, at teardown); returns how many. */
export async function revokeTokensNamed(q: Queryable, name: string): Promise<number> {
  const rows = await q.query("UPDATE tokens SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL RETURNING id", [name]);
  return rows.length;
}
