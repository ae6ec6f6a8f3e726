import type { Context } from "koa";
import { CookError, httpStatusOf, type ErrorCode } from "../../../core/errors.js";
import { readEventHistory } from "../../../events/history.js";
import type { Services } from "../../services.js";

/** A form's fields as text: a field sent twice counts once (its first value). */
export type Form = Record<string, string | undefined>;

/** The posted form's fields as text, each given once: what a refused form is rendered back with. */
export function formFields(ctx: Context): Form {
  const body = (ctx.request.body ?? {}) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(body).map(([key, value]) => [key, Array.isArray(value) ? String(value[0]) : String(value ?? "")]));
}

/**
 * The HTTP status for a form that a service refused for one of `codes` (the user's mistakes: the
 * form comes back filled in, with the reason); anything else is rethrown for the error page.
 */
export function formRefusal(err: unknown, codes: readonly ErrorCode[]): { status: number; message: string } {
  if (!(err instanceof CookError) || !codes.includes(err.code)) throw err;
  return { status: httpStatusOf(err.code), message: err.message };
}

/** Answers a form that worked: 303 See Other, so reloading the next page does not post again. */
export function redirectAfterPost(ctx: Context, to: string): void {
  ctx.redirect(to);
  ctx.status = 303;
}

/**
 * The SSE URL that refreshes a page: it resumes after the newest event at render time, so a change
 * made between rendering and connecting still triggers a refresh.
 */
export async function liveUrlFor(services: Services, path: string, query: Record<string, string | undefined>): Promise<string> {
  // The newest committed event, not only the newest published one: the stream replays what was
  // committed after it, and anything up to it is already on the page.
  const [latest] = await readEventHistory(services, { limit: 1, committed: true });
  const params = new URLSearchParams(Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ""));
  params.set("after", String(latest?.id ?? 0));
  return `${path}?${params}`;
}
