import { LineCounter, parseDocument, YAMLParseError, isMap, isNode, isScalar, isSeq } from "yaml";
import { CookError } from "./errors.js";
import { setOwn } from "./own-keys.js";
import { isVerbatimEntry, keyText, plainValue, readOptions, scalarText, writeYaml } from "./front-matter.js";
import { checkBody, checkDependsOn, checkParent, checkPriority, checkResolution, checkStatus, checkTaskId, checkTaskRepo, checkTimestamp, checkTitle, taskFieldKeys, type Task, type TaskResolution, type TaskStatus } from "./task.js";

/** What a task file says; absent fields are filled in by whoever creates or updates the task. */
export interface TaskDocument {
  id?: string;
  title?: string;
  priority?: number;
  status?: TaskStatus;
  /** Done when the file says closed and names none (files written before resolutions were). */
  resolution?: TaskResolution;
  repo?: string;
  dependsOn?: string[];
  /** null: the file says `parent:` with nothing (no parent). */
  parent?: string | null;
  createdAt?: string;
  updatedAt?: string;
  body: string;
  extra: Record<string, unknown>;
  /** Each extra key's entry as written, where it can be written back as it is (see Task.extraYaml). */
  extraYaml: Record<string, string>;
}

// Lines cook writes above the front matter to report a problem in `cook task edit`; never part of a task.
const cookNote = /^<!-- cook: .* -->$/;
// Only `---` at the start of a line closes the front matter, as in YAML itself: an indented one
// is text inside a block scalar.
const closingLine = /^---[ \t]*$/;
const maxFrontMatterBytes = 256 * 1024;

function fail(line: number, problem: string): never {
  throw new CookError("invalid", `line ${line}: ${problem}`);
}

interface Parts {
  /** The YAML between the `---` lines, with CRLF line ends read as LF. */
  frontMatter: string;
  /** The line of the file the front matter starts on, counting from 1. */
  firstLine: number;
  /** Everything after the closing line, byte for byte, less one blank line. */
  body: string;
}

function splitTaskFile(text: string): Parts {
  const source = text.replace(/^\uFEFF/, "");
  const starts = [0];
  for (let i = source.indexOf("\n"); i >= 0; i = source.indexOf("\n", i + 1)) starts.push(i + 1);
  const line = (n: number) => source.slice(starts[n], starts[n + 1] ?? source.length).replace(/\r?\n$/, "");
  let open = 0;
  while (open < starts.length - 1 && cookNote.test(line(open))) open++;
  if (line(open).trim() !== "---") fail(open + 1, "a task file starts with a '---' line, then YAML front matter, then another '---' line");
  let close = open + 1;
  while (close < starts.length && !closingLine.test(line(close))) close++;
  if (close >= starts.length) fail(open + 1, "the front matter is not closed: add a '---' line after it");
  const frontMatter = source.slice(starts[open + 1], starts[close]).replace(/\r\n/g, "\n");
  const size = Buffer.byteLength(frontMatter);
  if (size > maxFrontMatterBytes) fail(open + 2, `the front matter is ${size} bytes; the limit is ${maxFrontMatterBytes} (256 KiB)`);
  const rest = starts[close + 1] === undefined ? "" : source.slice(starts[close + 1]);
  return { frontMatter, firstLine: open + 2, body: rest.replace(/^\r?\n/, "") };
}

function dependsOnOf(node: unknown): string[] {
  if (node === null || (isScalar(node) && node.value === null)) return [];
  if (!isSeq(node) || !node.items.every(isScalar)) throw new CookError("invalid", "depends_on must be a list of task ids");
  return checkDependsOn(node.items.map((item) => scalarText("depends_on", item)));
}

/**
 * Parses `---\n<yaml front matter>\n---\n<markdown body>`. Every problem names the line of the
 * file it is on. Task fields are read as the text written (`id: 0008` is the id 0008); the body
 * is kept byte for byte; unknown keys keep the YAML they were written in.
 */
export function parseTaskDocument(text: string): TaskDocument {
  const { frontMatter, firstLine, body } = splitTaskFile(text);
  const lineCounter = new LineCounter();
  const doc = parseDocument(frontMatter, { ...readOptions, lineCounter });
  // An error at the very end (an unclosed `[`) is on the last line of the front matter, not on the closing `---`.
  const lineOf = (offset: number | undefined) => firstLine - 1 + (offset === undefined ? 1 : lineCounter.linePos(Math.min(offset, Math.max(0, frontMatter.length - 1))).line);
  const firstError = doc.errors[0];
  if (firstError) {
    const problem = firstError.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
    fail(firstError instanceof YAMLParseError ? lineOf(firstError.pos[0]) : firstLine, problem);
  }
  if (doc.contents !== null && !isMap(doc.contents)) fail(firstLine, "the front matter must be a set of key: value lines");

  const result: TaskDocument = { body, extra: {}, extraYaml: {} };
  let resolutionLine = firstLine;
  const items = doc.contents && isMap(doc.contents) ? doc.contents.items : [];
  // An entry runs from the start of its key's line to the start of the next key's line.
  const entryStarts = items.map((pair) => {
    const offset = isNode(pair.key) ? pair.key.range?.[0] : undefined;
    return offset === undefined ? undefined : frontMatter.lastIndexOf("\n", offset - 1) + 1;
  });
  for (const [i, pair] of items.entries()) {
    const key = keyText(pair.key);
    const line = lineOf(isNode(pair.key) ? pair.key.range?.[0] : undefined);
    try {
      switch (key) {
        case "id":
          result.id = checkTaskId(scalarText(key, pair.value));
          break;
        case "title":
          result.title = checkTitle(scalarText(key, pair.value));
          break;
        case "priority":
          result.priority = checkPriority(scalarText(key, pair.value));
          break;
        case "status":
          result.status = checkStatus(scalarText(key, pair.value));
          break;
        case "resolution":
          result.resolution = checkResolution(scalarText(key, pair.value));
          resolutionLine = line;
          break;
        case "repo":
          result.repo = checkTaskRepo(scalarText(key, pair.value));
          break;
        case "depends_on":
          result.dependsOn = dependsOnOf(pair.value);
          break;
        case "parent":
          result.parent = pair.value === null || (isScalar(pair.value) && pair.value.value === null) ? null : (checkParent(scalarText(key, pair.value)) ?? null);
          break;
        case "created":
          result.createdAt = checkTimestamp(scalarText(key, pair.value), key);
          break;
        case "updated":
          result.updatedAt = checkTimestamp(scalarText(key, pair.value), key);
          break;
        default: {
          const value = plainValue(doc, pair.value);
          setOwn(result.extra, key, value);
          const start = entryStarts[i];
          const entry = start === undefined ? "" : frontMatter.slice(start, entryStarts[i + 1] ?? frontMatter.length);
          if (isVerbatimEntry(key, value, entry)) setOwn(result.extraYaml, key, entry);
        }
      }
    } catch (err) {
      if (err instanceof CookError && !err.message.startsWith("line ")) fail(line, err.message);
      throw err;
    }
  }
  // Without a status the file leaves it as it is (an edit) or open (a new task): the service decides.
  if (result.resolution !== undefined && result.status !== undefined && result.status !== "closed") {
    fail(resolutionLine, `resolution is only for a closed task, and the status is ${result.status}: remove the resolution line, or set status: closed`);
  }
  if (result.status === "closed") result.resolution ??= "done";
  checkBody(result.body);
  return result;
}

/**
 * The task as a file: the task fields in a fixed order, then the extra keys in theirs, each as it
 * was written when it came from a file, else fresh. Parsing the result gives the same task back.
 */
export function serializeTask(task: Task): string {
  const fields = writeYaml({
    id: task.id,
    title: task.title,
    priority: task.priority,
    status: task.status,
    ...(task.status === "closed" ? { resolution: task.resolution ?? "done" } : {}),
    repo: task.repo,
    depends_on: task.dependsOn,
    // Only when set: files of tasks without one read as they always did.
    ...(task.parent ? { parent: task.parent } : {}),
    created: task.createdAt,
    updated: task.updatedAt,
  });
  let extras = "";
  for (const [key, value] of Object.entries(task.extra)) {
    if (!taskFieldKeys.includes(key)) extras += Object.hasOwn(task.extraYaml, key) ? task.extraYaml[key] : writeYaml({ [key]: value });
  }
  // parseTaskDocument drops one blank line after the front matter; a body that starts with one keeps it.
  return `---\n${fields}${extras}---\n${/^\r?\n/.test(task.body) ? "\n" : ""}${task.body}`;
}

/** A note above the front matter, e.g. the reason the last edit was refused. */
export function withNote(text: string, note: string): string {
  const cleaned = text.replace(/^(?:<!-- cook: .* -->(?:\r?\n|$))+/, "");
  return `<!-- cook: ${note.replace(/-->/g, "-- >").replace(/\n/g, " ")} -->\n${cleaned}`;
}
