import { CookError } from "../core/errors.js";
import { showInput } from "../core/show-input.js";
import { checkPattern } from "../events/subjects.js";
import { checkPriority, checkStatus } from "../core/task.js";
import type { TaskFilter } from "../tasks/read-tasks.js";
import type { BranchListFilter } from "../branches/read-branches.js";
import { branchStatuses, type BranchStatus } from "../core/branch.js";
import { checkWindowDays, type WindowDays } from "../factory/stats.js";

type QueryValue = string | string[] | undefined;

function single(name: string, value: QueryValue): string | undefined {
  if (Array.isArray(value)) throw new CookError("invalid", `give '${name}' once`);
  return value === "" ? undefined : value;
}

export function optionalInteger(name: string, value: QueryValue): number | undefined {
  const text = single(name, value);
  if (text === undefined) return undefined;
  if (!/^\d{1,15}$/.test(text)) throw new CookError("invalid", `'${name}' must be a non-negative integer, got ${showInput(text)}`);
  return Number(text);
}

export function optionalPattern(name: string, value: QueryValue): string | undefined {
  const text = single(name, value)?.trim();
  return text ? checkPattern(text) : undefined;
}

/**
 * Where an SSE stream starts: after the page's `after`, or — when the browser reconnects on its
 * own and sends Last-Event-ID, which is always newer — after the last event it received.
 */
export function resumeAfter(after: QueryValue, lastEventId: string): number | undefined {
  return optionalInteger("Last-Event-ID", lastEventId || undefined) ?? optionalInteger("after", after);
}

/** Task list filters from a query string: repo, status, priority, ready. Empty values mean "any". */
export function taskFilterFromQuery(query: Record<string, QueryValue>): TaskFilter {
  const status = single("status", query.status);
  const ready = single("ready", query.ready);
  if (ready !== undefined && !["true", "false", "1", "0", "on"].includes(ready)) throw new CookError("invalid", `'ready' must be true or false, got ${showInput(ready)}`);
  const priority = single("priority", query.priority);
  return {
    repo: single("repo", query.repo),
    status: status === undefined ? undefined : checkStatus(status),
    priority: priority === undefined ? undefined : checkPriority(priority),
    ready: ready === "true" || ready === "1" || ready === "on",
    limit: optionalInteger("limit", query.limit),
  };
}

/** Branch list filters from a query string: repo, status, task. Empty values mean "any". */
export function branchFilterFromQuery(query: Record<string, QueryValue>): BranchListFilter {
  const status = single("status", query.status);
  if (status !== undefined && !(branchStatuses as readonly string[]).includes(status)) {
    throw new CookError("invalid", `'status' must be one of ${branchStatuses.join(", ")}, got ${showInput(status)}`);
  }
  return { repo: single("repo", query.repo), status: status as BranchStatus | undefined, taskId: single("task", query.task)?.trim() || undefined };
}

/** The factory page's query: `repo` (empty: every repo) and `days` (7, 30 or 90; default 30). */
export function factoryQueryFrom(query: Record<string, QueryValue>): { repo: string | undefined; days: WindowDays } {
  return { repo: single("repo", query.repo), days: checkWindowDays(single("days", query.days)) };
}
