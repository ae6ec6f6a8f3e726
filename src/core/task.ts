import { CookError } from "./errors.js";
import { showInput } from "./show-input.js";
import { checkRepoName } from "./names.js";
import { parseTimestamp } from "./timestamp.js";

export type TaskStatus = "open" | "in_progress" | "needs_human" | "closed";
export const taskStatuses: readonly TaskStatus[] = ["open", "in_progress", "needs_human", "closed"];

/**
 * How a closed task ended. `done`: its work landed (a merge of its branch) or a human says it is
 * finished; only this meets the dependencies on it. `wontfix`: it will not be done; the tasks that
 * depend on it stay blocked until a human decides what becomes of them.
 */
export type TaskResolution = "done" | "wontfix";
export const taskResolutions: readonly TaskResolution[] = ["done", "wontfix"];

/**
 * Priority: 0 is the most urgent. Lists sort by priority, then oldest first, so the task that has
 * waited longest at the most urgent level comes first.
 */
export const priorityNames: Record<number, string> = { 0: "critical", 1: "high", 2: "normal", 3: "low", 4: "someday" };
export const defaultPriority = 2;
export const maxPriority = 4;
export const maxBodyBytes = 1024 * 1024;
/** Lengths are in characters: Unicode code points, as PostgreSQL's char_length counts them. */
export const maxTitleLength = 200;
export const maxTaskIdLength = 64;
export const maxRepoNameLength = 100;
export const maxDependencies = 100;
export const maxExtraKeyLength = 100;
/** The extra keys together, as JSON (the API) and as the YAML written in the file. */
export const maxExtraBytes = 64 * 1024;
const maxExtraDepth = 32;

export interface Task {
  id: string;
  title: string;
  priority: number;
  status: TaskStatus;
  /** Set exactly when the status is closed (the database checks it); reopening clears it. */
  resolution?: TaskResolution;
  repo: string;
  dependsOn: string[];
  /**
   * The task this one is part of (front-matter `parent`), in the same repo; absent for none. Its
   * branch starts from the parent's branch and merges into it (branches/parent-branch.ts).
   */
  parent?: string;
  /** Markdown. */
  body: string;
  createdAt: string;
  updatedAt: string;
  /**
   * Front-matter keys Cook does not know, in their order, as values (an integer too large for a
   * JavaScript number is its digits as a string).
   */
  extra: Record<string, unknown>;
  /**
   * For extra keys read from a task file: the YAML of each key's entry as it was written
   * (`flickr_id: 72157688988508171\n`, a block with its lines), written back byte for byte. A key
   * set through the API or `--set` has none and is written fresh from its value.
   */
  extraYaml: Record<string, string>;
}

export const taskIdRule = "a task id is 1-64 lowercase letters, digits and '-', starting with a letter or digit";

export function isValidTaskId(id: string): boolean {
  return /^[a-z0-9][a-z0-9-]{0,63}$/.test(id);
}

/** Characters as a user counts them: code points, so an emoji is one (UTF-16 would say two). */
export function characterCount(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/**
 * Refuses what PostgreSQL cannot store (a NUL) or would silently replace (a lone UTF-16
 * surrogate, which is not a character). Every text of a task passes here.
 */
export function checkCharacters(name: string, text: string): string {
  if (text.includes("\u0000")) throw new CookError("invalid", `${name} cannot contain a NUL character`);
  if (/\p{Cs}/u.test(text)) throw new CookError("invalid", `${name} is not valid Unicode text (it has a lone surrogate)`);
  return text;
}

/** Text of at most `max` characters that PostgreSQL can store. */
export function checkText(name: string, text: string, max: number): string {
  checkCharacters(name, text);
  // UTF-16 units are never fewer than characters, so most texts need no counting.
  const length = text.length <= max ? text.length : characterCount(text);
  if (length > max) throw new CookError("invalid", `${name} is ${length} characters; the limit is ${max}`);
  return text;
}

export function checkTaskId(id: unknown): string {
  if (typeof id === "string") checkText("a task id", id, maxTaskIdLength);
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
  if (title !== undefined && title !== null && typeof title !== "string") throw new CookError("invalid", `title is text, not ${showInput(title)}`);
  if (typeof title !== "string" || title.trim() === "") throw new CookError("invalid", "title is required and cannot be empty");
  if (/[\r\n]/.test(title)) throw new CookError("invalid", "title must be a single line");
  return checkText("title", title.trim(), maxTitleLength);
}

/** A repo name by the forge's rule; whether the repo exists is the service's question. */
export function checkTaskRepo(repo: unknown): string {
  if (typeof repo !== "string" || repo === "") throw new CookError("invalid", "repo must be a repo name");
  return checkRepoName(checkText("repo", repo, maxRepoNameLength));
}

export function checkPriority(priority: unknown): number {
  const value = typeof priority === "string" && /^\d+$/.test(priority) ? Number(priority) : priority;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > maxPriority) {
    throw new CookError("invalid", `priority must be an integer from 0 (critical) to ${maxPriority} (someday), got ${typeof value === "number" && typeof priority === "string" ? priority : JSON.stringify(priority)}`);
  }
  return value;
}

export function checkStatus(status: unknown): TaskStatus {
  if (typeof status !== "string" || !taskStatuses.includes(status as TaskStatus)) {
    throw new CookError("invalid", `status must be one of ${taskStatuses.join(", ")}, got ${JSON.stringify(status)}`);
  }
  return status as TaskStatus;
}

export function checkResolution(resolution: unknown): TaskResolution {
  if (typeof resolution !== "string" || !taskResolutions.includes(resolution as TaskResolution)) {
    throw new CookError("invalid", `resolution must be one of ${taskResolutions.join(", ")}, got ${JSON.stringify(resolution)}`);
  }
  return resolution as TaskResolution;
}

export function checkBody(body: unknown): string {
  if (typeof body !== "string") throw new CookError("invalid", "body must be text");
  const size = Buffer.byteLength(body);
  if (size > maxBodyBytes) throw new CookError("too_large", `body is ${size} bytes; the limit is ${maxBodyBytes} (1 MiB)`);
  return checkCharacters("body", body);
}

export function checkDependsOn(value: unknown): string[] {
  if (!Array.isArray(value) || value.some((id) => typeof id !== "string")) throw new CookError("invalid", "depends_on must be a list of task ids");
  const ids = [...new Set(value as string[])];
  if (ids.length > maxDependencies) throw new CookError("invalid", `depends_on names ${ids.length} tasks; the limit is ${maxDependencies}`);
  ids.forEach(checkTaskId);
  return ids;
}

/** An ISO 8601 / YAML timestamp as `2018-09-19T15:19:29.000Z`; without a zone it is UTC. */
export function checkTimestamp(value: unknown, name: string): string {
  const date = typeof value === "string" ? parseTimestamp(value) : undefined;
  if (!date) throw new CookError("invalid", `${name} must be a date and time like 2018-09-19 15:19:29 (UTC) or 2018-09-19T15:19:29+02:00, got ${JSON.stringify(value)}`);
  return date.toISOString();
}

/** The front-matter keys that are task fields, in the order a task file lists them. */
export const taskFieldKeys: readonly string[] = ["id", "title", "priority", "status", "resolution", "repo", "depends_on", "parent", "created", "updated"];

/** A parent task id, or undefined for none (`null` or "" clear it). */
export function checkParent(value: unknown): string | undefined {
  if (value === null || value === "" || value === undefined) return undefined;
  if (typeof value !== "string") throw new CookError("invalid", "parent must be a task id");
  try {
    return checkTaskId(value);
  } catch (err) {
    if (err instanceof CookError) throw new CookError(err.code, `parent: ${err.message}`);
    throw err;
  }
}

/** Every text in a JSON value, keys included, is storable; nesting is bounded so walking it cannot overflow. */
function checkExtraValue(key: string, value: unknown, depth: number): void {
  if (typeof value === "string") checkCharacters(`extra '${key}'`, value);
  else if (value !== null && typeof value === "object") {
    if (depth > maxExtraDepth) throw new CookError("invalid", `extra '${key}' nests deeper than ${maxExtraDepth} levels`);
    for (const [inner, item] of Object.entries(value)) {
      checkCharacters(`extra '${key}'`, inner);
      checkExtraValue(key, item, depth + 1);
    }
  } else if (typeof value !== "number" && typeof value !== "boolean") {
    throw new CookError("invalid", `extra '${key}' must be JSON: text, a number, true/false, null, a list or an object`);
  }
}

/**
 * Extra front-matter keys: a plain object of JSON values, none of them shadowing a field Cook
 * owns, keys of at most 100 characters, 64 KiB in all; `stage` a name or a whole number.
 */
export function checkExtra(extra: unknown): Record<string, unknown> {
  if (extra === null || typeof extra !== "object" || Array.isArray(extra)) throw new CookError("invalid", "extra must be an object of front-matter keys");
  for (const [key, value] of Object.entries(extra)) {
    if (taskFieldKeys.includes(key)) throw new CookError("invalid", `extra cannot hold '${key}': it is a task field`);
    checkText("an extra key", key, maxExtraKeyLength);
    checkExtraValue(key, value, 1);
    // Autopilot groups tasks by stage: a value it cannot order would leave the task in no stage.
    if (key === "stage" && value !== null && typeof value !== "string" && !(Number.isInteger(value) && (value as number) >= 0)) {
      throw new CookError("invalid", `stage must be a name or a whole number from 0 (got ${JSON.stringify(value)})`);
    }
  }
  const size = Buffer.byteLength(JSON.stringify(extra));
  if (size > maxExtraBytes) throw new CookError("invalid", `extra is ${size} bytes as JSON; the limit is ${maxExtraBytes} (64 KiB)`);
  return extra as Record<string, unknown>;
}
