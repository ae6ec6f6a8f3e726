import { CookError } from "./errors.js";
import { showInput } from "./show-input.js";

export type TaskStatus = "open" | "in_progress" | "needs_human" | "closed";
export const taskStatuses: readonly TaskStatus[] = ["open", "in_progress", "needs_human", "closed"];

/**
 * Priority: 0 is the most urgent. Lists sort by priority, then oldest first, so the task that has
 * waited longest at the most urgent level comes first.
 */
export const priorityNames: Record<number, string> = { 0: "critical", 1: "high", 2: "normal", 3: "low", 4: "someday" };
export const defaultPriority = 2;
export const maxPriority = 4;
export const maxBodyBytes = 1024 * 1024;

export interface Task {
  id: string;
  title: string;
  priority: number;
  status: TaskStatus;
  repo: string;
  dependsOn: string[];
  /** Markdown. */
  body: string;
  createdAt: string;
  updatedAt: string;
  /** Front-matter keys Cook does not know, kept in their order and written back unchanged. */
  extra: Record<string, unknown>;
}

export const taskIdRule = "a task id is 1-64 lowercase letters, digits and '-', starting with a letter or digit";

export function isValidTaskId(id: string): boolean {
  return /^[a-z0-9][a-z0-9-]{0,63}$/.test(id);
}

export function checkTaskId(id: unknown): string {
  if (typeof id !== "string" || !isValidTaskId(id)) throw new CookError("invalid", `${showInput(id)} is not a valid task id: ${taskIdRule}`);
  return id;
}

/** `Fix login redirect loop!` → `fix-login-redirect-loop`; never empty. */
export function slugify(title: string): string {
  const slug = title
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 56)
    .replace(/-+$/, "");
  return slug || "task";
}

export function checkTitle(title: unknown): string {
  if (typeof title !== "string" || title.trim() === "") throw new CookError("invalid", "title is required and cannot be empty");
  if (/[\r\n]/.test(title)) throw new CookError("invalid", "title must be a single line");
  if (title.length > 200) throw new CookError("invalid", `title is ${title.length} characters; the limit is 200`);
  return title.trim();
}

export function checkPriority(priority: unknown): number {
  const value = typeof priority === "string" && /^\d+$/.test(priority) ? Number(priority) : priority;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > maxPriority) {
    throw new CookError("invalid", `priority must be an integer from 0 (critical) to ${maxPriority} (someday), got ${JSON.stringify(priority)}`);
  }
  return value;
}

export function checkStatus(status: unknown): TaskStatus {
  if (typeof status !== "string" || !taskStatuses.includes(status as TaskStatus)) {
    throw new CookError("invalid", `status must be one of ${taskStatuses.join(", ")}, got ${JSON.stringify(status)}`);
  }
  return status as TaskStatus;
}

export function checkBody(body: unknown): string {
  if (typeof body !== "string") throw new CookError("invalid", "body must be text");
  const size = Buffer.byteLength(body);
  if (size > maxBodyBytes) throw new CookError("too_large", `body is ${size} bytes; the limit is ${maxBodyBytes} (1 MiB)`);
  return body;
}

export function checkDependsOn(value: unknown): string[] {
  if (!Array.isArray(value) || value.some((id) => typeof id !== "string")) throw new CookError("invalid", "depends_on must be a list of task ids");
  const ids = [...new Set(value as string[])];
  ids.forEach(checkTaskId);
  return ids;
}

export function checkTimestamp(value: unknown, name: string): string {
  const date = value instanceof Date ? value : typeof value === "string" ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime())) throw new CookError("invalid", `${name} must be a date and time, got ${JSON.stringify(value)}`);
  return date.toISOString();
}

const reservedKeys = ["id", "title", "priority", "status", "repo", "depends_on", "created", "updated"];

/** Extra front-matter keys: a plain object, none of them shadowing a field Cook owns. */
export function checkExtra(extra: unknown): Record<string, unknown> {
  if (extra === null || typeof extra !== "object" || Array.isArray(extra)) throw new CookError("invalid", "extra must be an object of front-matter keys");
  const clash = Object.keys(extra).find((key) => reservedKeys.includes(key));
  if (clash) throw new CookError("invalid", `extra cannot hold '${clash}': it is a task field`);
  return extra as Record<string, unknown>;
}
