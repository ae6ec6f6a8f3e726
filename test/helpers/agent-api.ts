import { eventually } from "./wait.js";

/** An agent session as the API returns it (the fields tests look at). */
export interface SessionJson {
  id: string;
  agent: string;
  status: string;
  reason?: string;
  runs: number;
  nativeId?: string;
  exitCode?: number;
  resumeAt?: string;
  usage: { inputTokens: number; outputTokens: number; costUsd: number };
}

/** JSON calls to a test server's API, and waits on its agent sessions. */
export function agentApi(server: { url: string }) {
  const request = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${server.url}${path}`, { method, headers: body === undefined ? {} : { "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as T };
  };
  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => (await request<T>(method, path, body)).body;
  const session = async (id: string) => (await api<{ session: SessionJson }>("GET", `/api/sessions/${id}`)).session;
  /** The session once it is no longer running. */
  const ended = (id: string, timeoutMs = 30_000) =>
    eventually(async () => {
      const current = await session(id);
      return current.status === "running" ? undefined : current;
    }, timeoutMs, `session ${id} to end`);
  return { request, api, session, ended };
}
