/** Who is asking: a token's holder, or the local user when localhost is trusted. */
export type Scope = "admin" | "user" | `agent:${string}/${string}`;

export interface Actor {
  name: string;
  scope: Scope;
}

export const localActor: Actor = Object.freeze({ name: "local", scope: "admin" });

/** admin ⊃ user ⊃ (nothing else): an agent token is limited to its own branch and is never a user. */
export function hasScope(actor: Actor, needed: "admin" | "user"): boolean {
  if (actor.scope === "admin") return true;
  return needed === "user" && actor.scope === "user";
}

export function parseScope(text: string): Scope | undefined {
  if (text === "admin" || text === "user") return text;
  const agent = /^agent:([^/\s]+)\/(\S+)$/.exec(text);
  return agent ? (text as Scope) : undefined;
}
