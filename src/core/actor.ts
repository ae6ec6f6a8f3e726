/** Who is asking: a token's holder, or the local user when localhost is trusted. */
export type Scope = "admin" | "user" | `agent:${string}/${string}`;

export interface Actor {
  name: string;
  scope: Scope;
}

export const localActor: Actor = Object.freeze({ name: "local", scope: "admin" });

export function parseScope(text: string): Scope | undefined {
  if (text === "admin" || text === "user") return text;
  const agent = /^agent:([^/\s]+)\/(\S+)$/.exec(text);
  return agent ? (text as Scope) : undefined;
}
