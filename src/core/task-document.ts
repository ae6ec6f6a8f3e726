import { LineCounter, parseDocument, YAMLParseError, isMap, isScalar, stringify } from "yaml";
import { CookError } from "./errors.js";
import { checkBody, checkDependsOn, checkPriority, checkStatus, checkTaskId, checkTimestamp, checkTitle, type Task, type TaskStatus } from "./task.js";

/** What a task file says; absent fields are filled in by whoever creates or updates the task. */
export interface TaskDocument {
  id?: string;
  title?: string;
  priority?: number;
  status?: TaskStatus;
  repo?: string;
  dependsOn?: string[];
  createdAt?: string;
  updatedAt?: string;
  body: string;
  extra: Record<string, unknown>;
}

const knownKeys = ["id", "title", "priority", "status", "repo", "depends_on", "created", "updated"];
// Lines cook writes above the front matter to report a problem in `cook task edit`; never part of a task.
const cookNote = /^<!-- cook: .* -->$/;

function fail(line: number, problem: string): never {
  throw new CookError("invalid", `line ${line}: ${problem}`);
}

/**
 * Parses `---\n<yaml front matter>\n---\n<markdown body>`. Every problem names the line of the
 * file it is on.
 */
export function parseTaskDocument(text: string): TaskDocument {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  let start = 0;
  while (start < lines.length && cookNote.test(lines[start]!)) start++;
  if (lines[start]?.trim() !== "---") fail(start + 1, "a task file starts with a '---' line, then YAML front matter, then another '---' line");
  const end = lines.findIndex((line, i) => i > start && line.trim() === "---");
  if (end < 0) fail(start + 1, "the front matter is not closed: add a '---' line after it");

  const lineCounter = new LineCounter();
  const yaml = lines.slice(start + 1, end).join("\n");
  const doc = parseDocument(yaml, { lineCounter, uniqueKeys: true });
  const lineOf = (offset: number | undefined) => start + 1 + (offset === undefined ? 1 : lineCounter.linePos(offset).line);
  const firstError = doc.errors[0];
  if (firstError) {
    const problem = firstError.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
    fail(firstError instanceof YAMLParseError ? lineOf(firstError.pos[0]) : start + 2, problem);
  }
  if (doc.contents !== null && !isMap(doc.contents)) fail(start + 2, "the front matter must be a set of key: value lines");

  const result: TaskDocument = { body: lines.slice(end + 1).join("\n").replace(/^\n/, ""), extra: {} };
  const items = doc.contents && isMap(doc.contents) ? doc.contents.items : [];
  for (const pair of items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    const line = lineOf(isScalar(pair.key) ? pair.key.range?.[0] : undefined);
    const value = (pair.value as { toJSON?: () => unknown } | null)?.toJSON?.() ?? (isScalar(pair.value) ? pair.value.value : null);
    try {
      switch (key) {
        case "id":
          result.id = checkTaskId(value);
          break;
        case "title":
          result.title = checkTitle(value);
          break;
        case "priority":
          result.priority = checkPriority(value);
          break;
        case "status":
          result.status = checkStatus(value);
          break;
        case "repo":
          if (typeof value !== "string" || value === "") fail(line, "repo must be a repo name");
          result.repo = value;
          break;
        case "depends_on":
          result.dependsOn = value === null ? [] : checkDependsOn(value);
          break;
        case "created":
          result.createdAt = checkTimestamp(value, key);
          break;
        case "updated":
          result.updatedAt = checkTimestamp(value, key);
          break;
        default:
          result.extra[key] = value;
      }
    } catch (err) {
      if (err instanceof CookError && !err.message.startsWith("line ")) fail(line, err.message);
      throw err;
    }
  }
  checkBody(result.body);
  return result;
}

/** The task as a file: known keys first in a fixed order, then the extra keys as they came. */
export function serializeTask(task: Task): string {
  const front: Record<string, unknown> = {
    id: task.id,
    title: task.title,
    priority: task.priority,
    status: task.status,
    repo: task.repo,
    depends_on: task.dependsOn,
    created: task.createdAt,
    updated: task.updatedAt,
  };
  for (const [key, value] of Object.entries(task.extra)) if (!knownKeys.includes(key)) front[key] = value;
  // parseTaskDocument drops one blank line after the front matter; a body that starts with one keeps it.
  return `---\n${stringify(front, { lineWidth: 0 })}---\n${task.body.startsWith("\n") ? "\n" : ""}${task.body}`;
}

/** A note above the front matter, e.g. the reason the last edit was refused. */
export function withNote(text: string, note: string): string {
  const cleaned = text.split(/\r?\n/).filter((line, i, all) => !(cookNote.test(line) && all.slice(0, i).every((l) => cookNote.test(l)))).join("\n");
  return `<!-- cook: ${note.replace(/-->/g, "-- >").replace(/\n/g, " ")} -->\n${cleaned}`;
}
