import type { AgentErrorEvent } from "../../core/agent-event.js";

// How the CLIs word a provider's rate-limit or quota error, as seen in their output and in the
// public parsers and issue threads collected for test/fixtures/agent-streams/README.md:
//   Claude Code  "Claude AI usage limit reached|1755150000" (older), "5-hour limit reached ∙ resets 3pm",
//                "You've hit your session limit · resets 9am (Europe/Berlin)", "API Error: 429 {…}",
//                rate_limit_event {status: "rejected", resetsAt: <epoch s>}
//   Codex        "You've hit your usage limit. … try again at Mar 10th, 2026 3:39 AM." / "… in 2 hours 13 minutes.",
//                "exceeded retry limit, last status: 429 Too Many Requests"
//   Gemini CLI   "You have exhausted your capacity on this model. Your quota will reset after 2h7m23s.",
//                "Quota exceeded for quota metric …", "Please retry in 41.2s", RESOURCE_EXHAUSTED
//   OpenCode     the provider's message, with statusCode 429 beside it
const limitWords =
  /rate[ _-]?limit|\bquota\b|usage limit|resource_exhausted|too many requests|exhausted your capacity|(hit|reached) your (\w+ )?limit|\b(session|weekly|week|5-hour|five-hour|5h|daily|hourly|monthly|plan) limit\b/i;
const httpStatus429 = /\b429\b/;
const statusWords = /status|error|http|too many|rejected|\(429\)/i;

/** Whether an error message is a provider's rate-limit or quota error. */
export function isRateLimitMessage(message: string): boolean {
  return limitWords.test(message) || (httpStatus429.test(message) && statusWords.test(message));
}

/** What a parser knows about an error besides its message. */
export interface ErrorHints {
  /** The CLI marked the error as a rate limit (Claude's `error: "rate_limit"`, a `rejected` rate_limit_event). */
  rateLimited?: boolean;
  /** The HTTP status the CLI reported with it. */
  status?: number;
  /** When the limit resets, as the CLI gave it in a field: epoch seconds or milliseconds, or ISO 8601. */
  resetsAt?: unknown;
}

/**
 * An `error` event for a message the CLI printed. It is `rateLimited` when the hints say so or the
 * message reads like a rate-limit or quota error, and then carries `retryAt` when a reset time is
 * given: a field (`resetsAt`), an epoch after `|`, an ISO time, a delay ("retry in 41s", "reset
 * after 2h7m23s", "try again in 2 hours 13 minutes") counted from `now`, or a wall-clock time
 * ("resets 9am (Europe/Berlin)", "try again at 3:42 PM", "try again at Mar 10th, 2026 3:39 AM",
 * "resets Oct 9, 10am") taken in the named zone, else this machine's, at its next occurrence.
 */
export function errorEvent(message: string, now: Date, hints: ErrorHints = {}): AgentErrorEvent {
  const rateLimited = hints.rateLimited === true || hints.status === 429 || isRateLimitMessage(message);
  if (!rateLimited) return { kind: "error", message };
  const retryAt = instantOf(hints.resetsAt) ?? retryAtFrom(message, now);
  return { kind: "error", message, rateLimited: true, ...(retryAt === undefined ? {} : { retryAt }) };
}

/** A reset time given as a field: epoch seconds or milliseconds, or an ISO 8601 string. */
function instantOf(value: unknown): string | undefined {
  if (typeof value === "number" && Number.isFinite(value) && value > 0) {
    return new Date(value < 1e12 ? value * 1000 : value).toISOString();
  }
  if (typeof value === "string" && /^\d{4}-\d{2}-\d{2}T/.test(value)) {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
  }
  return undefined;
}

const unitMs: [RegExp, number][] = [
  [/^(ms|millis|milliseconds?)$/, 1],
  [/^(s|secs?|seconds?)$/, 1000],
  [/^(m|mins?|minutes?)$/, 60_000],
  [/^(h|hrs?|hours?)$/, 3_600_000],
  [/^(d|days?)$/, 86_400_000],
];

/** Milliseconds of "2h7m23s", "41.2s", "250ms", "2 hours 13 minutes", "4 days 5 hours". */
function durationMs(text: string): number | undefined {
  let total = 0;
  let found = false;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)\s*(milliseconds?|millis|ms|minutes?|mins?|m|seconds?|secs?|s|hours?|hrs?|h|days?|d)(?![a-z])/gi)) {
    const unit = unitMs.find(([re]) => re.test(m[2]!.toLowerCase()));
    if (!unit) continue;
    total += Number(m[1]) * unit[1];
    found = true;
  }
  return found ? total : undefined;
}

const monthNames = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];

/** 0-11 for a month's name or its abbreviation ("Mar", "Sept", "October"), else -1. */
function monthOf(word: string): number {
  const w = word.toLowerCase();
  return w.length < 3 ? -1 : monthNames.findIndex((name) => name.startsWith(w));
}

function retryAtFrom(message: string, now: Date): string | undefined {
  const epoch = /\|(\d{10,13})\b/.exec(message) ?? /"?resets_at"?\s*:\s*(\d{10,13})\b/.exec(message);
  if (epoch) return instantOf(Number(epoch[1]));

  const iso = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})/.exec(message);
  if (iso) return instantOf(iso[0]);

  const delay =
    /(?:retry|try again|reset|resets|wait)\s+(?:in|after)\s+((?:\d+(?:\.\d+)?\s*[a-z]+[\s,]*(?:and\s+)?)+)/i.exec(message)?.[1] ??
    /"retryDelay"\s*:\s*"([\d.]+s)"/.exec(message)?.[1];
  const inSeconds = /"?resets_in_seconds"?\s*:\s*(\d+)/.exec(message)?.[1];
  const ms = delay !== undefined ? durationMs(delay) : inSeconds !== undefined ? Number(inSeconds) * 1000 : undefined;
  if (ms !== undefined) return new Date(now.getTime() + ms).toISOString();

  const at = /(?:try again at|resets? at|resets|reset at)\s+(.+)/i.exec(message)?.[1];
  return at === undefined ? undefined : wallClockTime(at, now);
}

/** "Mar 10th, 2026 3:39 AM", "Oct 9, 10am (Europe/Berlin)", "9am (Europe/Berlin)", "3:42 PM", "15:00". */
function wallClockTime(text: string, now: Date): string | undefined {
  const zone = validZone(/\(([A-Za-z_]+(?:\/[A-Za-z0-9_+-]+)+|UTC)\)/.exec(text)?.[1]) ?? localZone();
  const date = /\b([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?(?![\d:])/.exec(text);
  const monthIndex = date ? monthOf(date[1]!) : -1;
  const rest = date && monthIndex >= 0 ? text.slice(date.index + date[0].length) : text;
  const time = /(\d{1,2})(?::(\d{2}))?\s*([ap])\.?m\.?(?![a-z])|(\d{1,2}):(\d{2})/i.exec(rest);

  let hour = 0;
  let minute = 0;
  if (time) {
    hour = Number(time[1] ?? time[4]);
    minute = Number(time[2] ?? time[5] ?? 0);
    const half = time[3]?.toLowerCase();
    if (half !== undefined) {
      if (hour < 1 || hour > 12) return undefined;
      hour = (hour % 12) + (half === "p" ? 12 : 0);
    }
    if (hour > 23 || minute > 59) return undefined;
  } else if (monthIndex < 0) {
    return undefined;
  }

  const today = partsIn(now.getTime(), zone);
  if (monthIndex >= 0) {
    const day = Number(date![2]);
    const year = date![3] === undefined ? today.year : Number(date![3]);
    let ms = zonedToUtc(year, monthIndex, day, hour, minute, zone);
    if (date![3] === undefined && ms <= now.getTime()) ms = zonedToUtc(year + 1, monthIndex, day, hour, minute, zone);
    return new Date(ms).toISOString();
  }
  let ms = zonedToUtc(today.year, today.month, today.day, hour, minute, zone);
  if (ms <= now.getTime()) ms = zonedToUtc(today.year, today.month, today.day + 1, hour, minute, zone);
  return new Date(ms).toISOString();
}

function localZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

function validZone(zone: string | undefined): string | undefined {
  if (zone === undefined) return undefined;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return zone;
  } catch {
    return undefined;
  }
}

/** The calendar fields of an instant in a zone (month 0-based). */
function partsIn(ms: number, zone: string): { year: number; month: number; day: number; hour: number; minute: number; second: number } {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    second: "numeric",
  }).formatToParts(new Date(ms));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return { year: get("year"), month: get("month") - 1, day: get("day"), hour: get("hour"), minute: get("minute"), second: get("second") };
}

/** The instant at which the zone's clock shows this wall time (Date.UTC normalizes day overflow). */
function zonedToUtc(year: number, month: number, day: number, hour: number, minute: number, zone: string): number {
  const wall = Date.UTC(year, month, day, hour, minute);
  const offsetAt = (ms: number) => {
    const p = partsIn(ms, zone);
    return Date.UTC(p.year, p.month, p.day, p.hour, p.minute, p.second) - Math.floor(ms / 1000) * 1000;
  };
  // Twice: the offset at the first guess may differ from the one at the answer across a DST change.
  const first = wall - offsetAt(wall);
  return wall - offsetAt(first);
}
