import { CookError } from "../core/errors.js";
import type { Db } from "../db/db.js";
import { listEvents } from "../db/event-store.js";
import type { Event } from "./event.js";
import { patternToRegex } from "./subjects.js";

export interface HistoryQuery {
  /** NATS-style subject pattern; all events when absent. */
  subject?: string;
  /** Events after this id, oldest first (for catching up); otherwise newest first. */
  after?: number;
  /** With newest-first paging: events before this id. */
  before?: number;
  limit?: number;
  /** Only events about this repo (an agent sees its own repo's events and no others). */
  repo?: string;
  /**
   * Include events committed but not yet marked published. A live stream replaying what it missed
   * needs them: the relay marks events in bulk, a little after they went out on the bus.
   */
  committed?: boolean;
}

export const maxHistoryPage = 1000;

/** A page of the event log: newest first, or oldest first after a given id. Published events only, unless asked. */
export async function readEventHistory(deps: { db: Db }, query: HistoryQuery): Promise<Event[]> {
  const limit = query.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > maxHistoryPage) {
    throw new CookError("invalid", `limit must be an integer from 1 to ${maxHistoryPage}`);
  }
  for (const [name, value] of [["after", query.after], ["before", query.before]] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < 0)) throw new CookError("invalid", `${name} must be an event id (a non-negative integer)`);
  }
  return listEvents(deps.db, {
    subjectRegex: query.subject ? patternToRegex(query.subject) : undefined,
    afterId: query.after,
    beforeId: query.before,
    publishedOnly: !query.committed,
    repo: query.repo,
    limit,
    order: query.after !== undefined ? "asc" : "desc",
  });
}
