/**
 * `serialize_overlaps`: a ready task declaring the files it expects to touch (front-matter `files`)
 * waits while an open branch of its repo changes, or expects to change, any of them. A pattern is a
 * repo-relative path (`src/app.ts`, which also covers everything under it when it is a folder), a
 * folder with a trailing `/` (`src/db/`), or a glob as picomatch reads it (`src/*.ts`, `src/**`,
 * `test/{unit,integration}/`: `*` stays within one folder, `**` crosses folders; dot files match).
 * Overlap is judged conservatively: waiting too often is safe, starting two conflicting branches
 * is not.
 */

import picomatch from "picomatch/posix.js";
import type { AgentDeps } from "../agents/deps.js";
import { readOpenBranchChanges } from "../branches/predict-conflicts.js";
import { relativePathProblem } from "../core/relative-path.js";
import type { Task } from "../core/task.js";
import { extrasOfTasks } from "../db/task-store.js";
import { appendAutopilotEvent } from "./events.js";
import type { AutopilotSettings } from "./settings.js";

/** A task's `files`, split into patterns, with what is wrong with any of them. */
export interface ExpectedFiles {
  /** The valid patterns, trailing `/` kept. */
  patterns: string[];
  /** One sentence per invalid pattern or value (`'../x' has a '..' segment`); empty when all are valid. */
  problems: string[];
}

/** An open branch as autopilot sees it: the files it changed against its base, and the `files` its task expects. */
export interface RunningBranch {
  branch: string;
  taskId: string | undefined;
  /** The task's `parent` (front matter), when it names one. */
  parent: string | undefined;
  changed: readonly string[];
  expected: readonly string[];
}

/** What a ready task overlaps: the first running branch (by name) and the files or patterns in common. */
export interface Overlap {
  branch: string;
  /** The branch's changed files the task's patterns match, then the task's patterns of the branch's task that may meet them, sorted, no repeats. */
  files: string[];
}

/** Why a ready task waits: an overlap with a running branch, or `files` that cannot be read. */
export interface HeldBack {
  reason: string;
  overlaps?: Overlap;
}

// Characters after which a pattern stops being a literal path (picomatch's glob, brace, extglob and escape syntax).
const globCharacters = /[*?[\]{}()!+@\\]/;

/**
 * What is wrong with one pattern of `files`, or undefined: it must name something inside the repo
 * (relative, normalized, no `..` segment, not in `.git`; core/relative-path.ts, after one trailing
 * `/`), and not be negated (`!x` says which files are not expected, which is no list of files).
 */
export function filePatternProblem(pattern: string): string | undefined {
  if (pattern.startsWith("!")) return "is negated: list the files the task expects to change";
  const problem = relativePathProblem(pattern.endsWith("/") ? pattern.slice(0, -1) : pattern);
  if (problem) return problem.replace(/^it /, "");
  try {
    picomatch.makeRe(pattern);
  } catch (err) {
    return `is not a glob picomatch reads (${(err as Error).message})`;
  }
  return undefined;
}

/**
 * The front-matter `files` of a task: a list of strings, or one comma-separated string (commas
 * inside `{a,b}` braces do not split). No `files` (or an empty list) means the task's files are
 * unknown, and it never waits for an overlap. Never throws: what is wrong is in `problems`.
 */
export function expectedFilesOf(task: Pick<Task, "extra">): ExpectedFiles {
  const value = task.extra.files;
  if (value === undefined || value === null) return { patterns: [], problems: [] };
  let items: unknown[];
  if (typeof value === "string") items = splitOutsideBraces(value);
  else if (Array.isArray(value)) items = value;
  else return { patterns: [], problems: ["files is neither a list of paths nor one comma-separated text"] };
  const patterns: string[] = [];
  const problems: string[] = [];
  items.forEach((item, index) => {
    if (typeof item !== "string") return problems.push(`files item ${index + 1} is not a text`);
    const pattern = item.trim();
    const problem = filePatternProblem(pattern);
    if (problem) problems.push(`'${pattern}' ${problem}`);
    else if (!patterns.includes(pattern)) patterns.push(pattern);
  });
  return { patterns, problems };
}

function splitOutsideBraces(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "{") depth++;
    else if (c === "}" && depth > 0) depth--;
    else if (c === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((part) => part.trim()).filter(Boolean);
}

const withoutSlash = (pattern: string) => (pattern.endsWith("/") ? pattern.slice(0, -1) : pattern);

/** The literal start of a pattern, before its first glob character (the whole path for a literal one). */
function literalPrefix(pattern: string): { prefix: string; glob: boolean } {
  const path = withoutSlash(pattern);
  const at = path.search(globCharacters);
  return at < 0 ? { prefix: path, glob: false } : { prefix: path.slice(0, at), glob: true };
}

/**
 * A matcher for one pattern: true for a path the pattern matches, or one inside a folder it
 * matches (`src/db` and `src/db/` both cover `src/db/x.ts`; `src/*` covers `src/a/b.ts`).
 */
export function filePatternMatcher(pattern: string): (file: string) => boolean {
  const matches = picomatch(withoutSlash(pattern), { dot: true });
  return (file) => {
    if (matches(file)) return true;
    for (let at = file.lastIndexOf("/"); at > 0; at = file.lastIndexOf("/", at - 1)) if (matches(file.slice(0, at))) return true;
    return false;
  };
}

/**
 * Whether two patterns may match a common path, conservatively: two literal paths when they are
 * equal or one is a folder above the other; otherwise when one's literal start (before its first
 * glob character) begins the other's, so `src/**` meets `src/db/x.ts` and `*.md` meets everything.
 */
export function patternsMayOverlap(a: string, b: string): boolean {
  const [x, y] = [literalPrefix(a), literalPrefix(b)];
  if (!x.glob && !y.glob) return x.prefix === y.prefix || x.prefix.startsWith(`${y.prefix}/`) || y.prefix.startsWith(`${x.prefix}/`);
  return x.prefix.startsWith(y.prefix) || y.prefix.startsWith(x.prefix);
}

/** The first running branch (by name) that `patterns` overlap, with what they share; undefined when none. */
export function findOverlap(patterns: readonly string[], running: readonly RunningBranch[]): Overlap | undefined {
  if (patterns.length === 0) return undefined;
  const matchers = patterns.map(filePatternMatcher);
  for (const branch of [...running].sort((p, q) => (p.branch < q.branch ? -1 : p.branch > q.branch ? 1 : 0))) {
    const files = new Set(branch.changed.filter((file) => matchers.some((matches) => matches(file))));
    for (const theirs of branch.expected) if (patterns.some((mine) => patternsMayOverlap(mine, theirs))) files.add(theirs);
    if (files.size > 0) return { branch: branch.branch, files: [...files].sort() };
  }
  return undefined;
}

/** "its files overlap branch 'x' (src/a.ts, src/b.ts and 2 more)". */
export function overlapReason(overlap: Overlap): string {
  const shown = overlap.files.slice(0, 3).join(", ");
  const more = overlap.files.length > 3 ? ` and ${overlap.files.length - 3} more` : "";
  return `its files overlap branch '${overlap.branch}' (${shown}${more})`;
}

/**
 * The repo's open branches (readOpenBranchChanges: at most 200, the most recently active), each
 * with the files it changed and the `files` its task expects: every open branch counts, autopilot's
 * or a person's, working or waiting on a human, since its changes will meet the next branch's at
 * merge either way.
 */
export async function readRunningBranches(deps: AgentDeps, repo: string): Promise<RunningBranch[]> {
  const open = await readOpenBranchChanges(deps, repo);
  const extras = await extrasOfTasks(deps.db, [...new Set(open.flatMap(({ branch }) => (branch.taskId ? [branch.taskId] : [])))]);
  return open.map(({ branch, files }) => {
    const task = branch.taskId ? extras.get(branch.taskId) : undefined;
    return { branch: branch.name, taskId: branch.taskId, parent: task?.parent, changed: files, expected: task ? expectedFilesOf(task).patterns : [] };
  });
}

/**
 * Why `task` must wait under `serialize_overlaps`, or undefined when it may start: invalid `files`
 * hold it back (with what is wrong), no `files` never does, and otherwise the first running branch
 * it overlaps does. Branches of the task itself and of its `parent` chain are not counted: a
 * sub-task's branch starts from its parent's, and the parent waits for it.
 */
export function heldBackBy(task: Pick<Task, "id" | "extra" | "parent">, running: readonly RunningBranch[]): HeldBack | undefined {
  const { patterns, problems } = expectedFilesOf(task);
  if (problems.length > 0) return { reason: `its front-matter files are invalid: ${problems.join("; ")}` };
  const ancestors = new Set<string>([task.id]);
  for (let parent = task.parent; parent && !ancestors.has(parent); parent = running.find((r) => r.taskId === parent)?.parent) ancestors.add(parent);
  const overlap = findOverlap(patterns, running.filter((r) => !r.taskId || !ancestors.has(r.taskId)));
  return overlap ? { reason: overlapReason(overlap), overlaps: overlap } : undefined;
}

/** Which ready tasks wait for an overlap, during one dispatch pass or one status read. */
export interface OverlapCheck {
  /** Why the task waits, or undefined; always undefined when `serialize_overlaps` is off. */
  check(task: Pick<Task, "id" | "extra" | "parent">): Promise<HeldBack | undefined>;
  /** A task was started: the branches are read again before the next check, so it counts as running. */
  started(): void;
}

/**
 * Checks ready tasks against the repo's running branches, read when first needed (never when the
 * setting is off or no task checked has `files`) and again after started().
 */
export function overlapCheck(deps: AgentDeps, settings: Pick<AutopilotSettings, "repo" | "config">): OverlapCheck {
  let running: Promise<RunningBranch[]> | undefined;
  return {
    async check(task) {
      if (!settings.config.serializeOverlaps || task.extra.files === undefined) return undefined;
      running ??= readRunningBranches(deps, settings.repo);
      return heldBackBy(task, await running);
    },
    started() {
      running = undefined;
    },
  };
}

/** An OverlapCheck that also announces the tasks it holds back. */
export interface OverlapGuard extends OverlapCheck {
  /** check, and when the task waits, `cook.autopilot.<repo>.skipped` once per task and cause. Returns whether it waits. */
  holdsBack(task: Pick<Task, "id" | "extra">): Promise<boolean>;
}

// The cause each held-back task was last announced for, per repo, in this process: said once, not every pass.
const announced = new Map<string, Map<string, string>>();

/**
 * The guard of one dispatch pass over `queue` (the ready tasks, dispatchQueue's order). A skipped
 * event is appended when a task starts waiting, or waits for another branch; announcements of
 * tasks that left the queue or may start are forgotten, so one that waits again is announced again.
 */
export function overlapGuard(deps: AgentDeps, settings: Pick<AutopilotSettings, "repo" | "config">, queue: ReadonlyArray<Pick<Task, "id">>): OverlapGuard {
  const repo = settings.repo;
  const said = announced.get(repo) ?? new Map<string, string>();
  const queued = new Set(queue.map((task) => task.id));
  for (const id of said.keys()) if (!queued.has(id)) said.delete(id);
  announced.set(repo, said);
  const overlaps = overlapCheck(deps, settings);
  return {
    ...overlaps,
    async holdsBack(task) {
      const held = await overlaps.check(task);
      if (!held) {
        said.delete(task.id);
        return false;
      }
      // The cause is the branch waited for (or the invalid files), not the reason's text: the
      // running branch's agent pushing one more matching file is no new decision.
      const cause = held.overlaps ? `branch:${held.overlaps.branch}` : `invalid:${held.reason}`;
      if (said.get(task.id) !== cause) {
        said.set(task.id, cause);
        await deps.db.transaction((tx) => appendAutopilotEvent(deps, tx, repo, "skipped", { task: task.id, reason: held.reason, ...(held.overlaps ? { overlaps: held.overlaps } : {}) }));
      }
      return true;
    },
  };
}
