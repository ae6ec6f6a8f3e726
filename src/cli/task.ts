import { closeSync, mkdirSync, openSync, readdirSync, readSync, statSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { Command } from "commander";
import type { TaskDetailInfo, TaskInfo, TaskLinkInfo } from "../client/http-client.js";
import { CookError } from "../core/errors.js";
import { setOwn } from "../core/own-keys.js";
import { checkResolution } from "../core/task.js";
import { describeResolution, describeStatus } from "../core/task-status.js";
import { clientFor } from "./context.js";
import { printJson, printLine, printTable, terminalSafe } from "./output.js";
import { parseIntegerOption } from "./parse.js";

// A task file holds at most a 1 MiB body and its front matter; reading stops past this, so a path
// like /dev/zero is refused instead of read until memory runs out.
const maxFileBytes = 2 * 1024 * 1024;
const utf8 = new TextDecoder("utf-8", { fatal: true });

function readBytes(fd: number, name: string): Buffer {
  const chunks: Buffer[] = [];
  let size = 0;
  for (;;) {
    const chunk = Buffer.alloc(64 * 1024);
    const n = readSync(fd, chunk);
    if (n === 0) return Buffer.concat(chunks, size);
    chunks.push(chunk.subarray(0, n));
    size += n;
    if (size > maxFileBytes) throw new CookError("invalid", `${name} is larger than ${maxFileBytes / 1024 / 1024} MiB; a task file is at most that`);
  }
}

/** A file (or `-`, standard input) as UTF-8 text; anything else is refused, never replaced with U+FFFD. */
function readText(file: string): string {
  const name = file === "-" ? "standard input" : file;
  let bytes: Buffer;
  try {
    const fd = file === "-" ? 0 : openSync(file, "r");
    try {
      bytes = readBytes(fd, name);
    } finally {
      if (fd !== 0) closeSync(fd);
    }
  } catch (err) {
    if (err instanceof CookError) throw err;
    throw new CookError("invalid", `cannot read ${name}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return utf8.decode(bytes);
  } catch {
    throw new CookError("invalid", `${name} is not UTF-8 text`);
  }
}

const splitList = (text: string) => text.split(",").map((s) => s.trim()).filter(Boolean);

/** `--set key=value`: known fields by name, anything else an extra front-matter key (empty removes it). */
function changesFromSets(sets: string[], current: TaskInfo): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  let extra: Record<string, unknown> | undefined;
  for (const set of sets) {
    const eq = set.indexOf("=");
    if (eq <= 0) throw new CookError("invalid", `--set expects key=value, got '${set}'`);
    const key = set.slice(0, eq).trim();
    const value = set.slice(eq + 1);
    if (key === "title" || key === "status" || key === "resolution" || key === "repo") changes[key] = value;
    else if (key === "priority") changes.priority = value;
    else if (key === "depends_on" || key === "dependsOn") changes.dependsOn = splitList(value);
    else if (key === "parent") changes.parent = value.trim() === "" ? null : value.trim();
    else if (key === "body") changes.body = value;
    else if (key === "id") throw new CookError("invalid", "the id cannot be changed");
    else {
      extra ??= { ...current.extra };
      if (value === "") delete extra[key];
      else setOwn(extra, key, value);
    }
  }
  if (extra) changes.extra = extra;
  return changes;
}

function statOf(path: string) {
  try {
    return statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CookError("invalid", code === "ENOENT" ? `no such file or folder: ${path}` : `cannot read ${path}: ${code ?? (err as Error).message}`);
  }
}

/**
 * The path itself when it is not a folder (whatever it is, it is read as named: a pipe from
 * `<(…)` too), else every .md file under it. A .md under a folder that is not a regular file (a
 * FIFO would block the read forever, a device never end) is refused.
 */
function markdownFiles(path: string): string[] {
  if (!statOf(path).isDirectory()) return [path];
  let names: string[];
  try {
    names = readdirSync(path, { recursive: true, encoding: "utf8" });
  } catch (err) {
    throw new CookError("invalid", `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const files = names.filter((name) => name.endsWith(".md")).sort().map((name) => join(path, name));
  return files.filter((file) => {
    const info = statOf(file);
    if (info.isDirectory()) return false;
    if (!info.isFile()) throw new CookError("invalid", `${file} is not a regular file`);
    return true;
  });
}

/** `add-oauth (open)`, `add-oauth (closed, won't fix)`. */
function showLink(link: TaskLinkInfo): string {
  return `${link.id} (${link.status === "closed" ? `closed, ${describeResolution(link.resolution ?? "done")}` : link.status})`;
}

/** What `task show` adds after the dependencies: what blocks the task, and who decides for a dependency closed as won't fix. */
function readiness(detail: TaskDetailInfo): string {
  if (detail.blockedBy.length === 0) return detail.dependsOn.length ? "  (ready)" : "";
  const wontfix = detail.dependsOn.filter((dep) => dep.resolution === "wontfix").map((dep) => dep.id);
  const decide = wontfix.length ? `; ${wontfix.join(", ")} closed as won't fix: reopen ${wontfix.length > 1 ? "them" : "it"}, drop the dependency, or close this task too` : "";
  return `  (blocked by ${detail.blockedBy.join(", ")}${decide})`;
}

export function registerTask(program: Command): void {
  const task = program.command("task").description("tasks: markdown with front matter, the unit of intent");

  task
    .command("list")
    .description("tasks by priority (0 = critical … 4 = someday), then oldest first")
    .option("--repo <repo>", "only this repo")
    .option("--status <status>", "open, in_progress, needs_human or closed")
    .option("--priority <n>", "only this priority", parseIntegerOption("--priority", 0, 4))
    .option("--ready", "only tasks whose dependencies are all closed as done")
    .option("--json", "print JSON")
    .action(async (options: { repo?: string; status?: string; priority?: number; ready?: boolean; json?: boolean }, command: Command) => {
      const { tasks } = await clientFor(command).listTasks(options);
      if (options.json) return printJson(tasks);
      if (tasks.length === 0) {
        process.stdout.write("no tasks match\n");
        return;
      }
      printTable(
        ["ID", "P", "STATUS", "REPO", "BLOCKED BY", "TITLE"],
        tasks.map((t) => [t.id, String(t.priority), describeStatus(t), t.repo, t.blockedBy.join(",") || "-", t.title]),
      );
    });

  task
    .command("create")
    .description("create a task from options, or from a task file with --file")
    .argument("[repo]", "the repo it belongs to")
    .argument("[stdin]", "'-' reads the body from standard input")
    .option("--title <title>", "one line")
    .option("--priority <n>", "0 (critical) to 4 (someday); default 2", parseIntegerOption("--priority", 0, 4))
    .option("--id <id>", "default: derived from the title")
    .option("--depends-on <ids>", "comma-separated task ids")
    .option("--parent <id>", "the task this one is part of: its branch starts from the parent's and merges into it")
    .option("--body <markdown>", "the body")
    .option("--body-file <file>", "read the body from a file")
    .option("--file <task.md>", "a whole task file: front matter and body")
    .option("--json", "print JSON")
    .action(async (repo: string | undefined, stdin: string | undefined, options: Record<string, string | number | undefined>, command: Command) => {
      const client = clientFor(command);
      let created: TaskInfo;
      if (options.file) {
        created = await client.createTask({ markdown: readText(String(options.file)), repo });
      } else {
        if (!repo) throw new CookError("invalid", "give the repo: cook task create <repo> --title=…");
        if (options.title === undefined) throw new CookError("invalid", "--title is required");
        const bodySources = [options.body !== undefined, options.bodyFile !== undefined, stdin === "-"].filter(Boolean).length;
        if (bodySources > 1) throw new CookError("invalid", "give the body once: --body, --body-file or -");
        if (stdin !== undefined && stdin !== "-") throw new CookError("invalid", `unexpected argument '${stdin}'`);
        const body = options.body !== undefined ? String(options.body) : options.bodyFile !== undefined ? readText(String(options.bodyFile)) : stdin === "-" ? readText("-") : "";
        created = await client.createTask({
          repo,
          title: options.title,
          priority: options.priority,
          id: options.id,
          dependsOn: options.dependsOn === undefined ? undefined : splitList(String(options.dependsOn)),
          parent: options.parent,
          body,
        });
      }
      if (options.json) return printJson(created);
      printLine(`created task ${created.id} in ${created.repo}`);
    });

  task
    .command("show")
    .description("a task: front matter, body, what blocks it and what it blocks")
    .argument("<id>")
    .option("--json", "print JSON")
    .action(async (id: string, options: { json?: boolean }, command: Command) => {
      const detail = await clientFor(command).getTask(id);
      if (options.json) return printJson(detail);
      const t = detail.task;
      const lines = [
        `${t.id}: ${t.title}`,
        `repo ${t.repo} · priority ${t.priority} · ${describeStatus(t)} · created ${t.createdAt.slice(0, 16).replace("T", " ")} · updated ${t.updatedAt.slice(0, 16).replace("T", " ")}`,
        ...(detail.waitingReason ? [`waiting on you: ${detail.waitingReason}`] : []),
        ...Object.entries(t.extra).map(([key, value]) => `${key}: ${typeof value === "string" ? value : JSON.stringify(value)}`),
        `depends on: ${detail.dependsOn.map(showLink).join(", ") || "-"}${readiness(detail)}`,
        `blocks: ${detail.blocks.map(showLink).join(", ") || "-"}`,
        ...(detail.parent ? [`part of: ${showLink(detail.parent)}`] : []),
        ...(detail.children.length ? [`sub-tasks: ${detail.children.map(showLink).join(", ")}`] : []),
        `branches: ${detail.branches.map((b) => `${b.repo}/${b.name}`).join(", ") || "-"}`,
      ];
      // Each front-matter line is one line on screen, whatever its value holds; the body keeps its lines.
      lines.forEach((line) => printLine(line));
      if (t.body) process.stdout.write(`\n${terminalSafe(t.body, { multiline: true }).replace(/\n?$/, "\n")}`);
    });

  task
    .command("edit")
    .description("edit a task in $VISUAL/$EDITOR, or change it with --set/--body-file")
    .argument("<id>")
    .option("--set <key=value>", "set a field or front-matter key (repeatable; empty value removes an extra key)", (value: string, all: string[] = []) => [...all, value])
    .option("--body-file <file>", "replace the body with this file ('-' for standard input)")
    .action(async (id: string, options: { set?: string[]; bodyFile?: string }, command: Command) => {
      const client = clientFor(command);
      if (options.set || options.bodyFile) {
        const { task: current } = await client.getTask(id);
        const changes = changesFromSets(options.set ?? [], current);
        if (options.bodyFile) changes.body = readText(options.bodyFile);
        const saved = await client.updateTask(id, changes);
        printLine(`updated task ${saved.id}`);
        return;
      }
      const { editTaskInEditor } = await import("./task-editor.js");
      const saved = await editTaskInEditor(client, id);
      printLine(saved ? `saved task ${saved.id}` : "no changes");
    });

  task
    .command("close")
    .description("close a task as done (its dependents become ready) or as wontfix (they stay blocked)")
    .argument("<id>")
    .option("--resolution <resolution>", "done (the default) or wontfix")
    .action(async (id: string, options: { resolution?: string }, command: Command) => {
      // Checked here too, so a typo is one line and exit 1, not commander's usage text.
      const resolution = options.resolution === undefined ? undefined : checkResolution(options.resolution);
      const saved = await clientFor(command).setTaskStatus(id, "close", { resolution });
      printLine(`closed task ${saved.id}${saved.resolution === "wontfix" ? " as won't fix" : ""}`);
    });

  task
    .command("reopen")
    .description("reopen a closed task; tasks that depend on it are blocked again")
    .argument("<id>")
    .action(async (id: string, _options: unknown, command: Command) => {
      const saved = await clientFor(command).setTaskStatus(id, "reopen");
      printLine(`reopened task ${saved.id}`);
    });

  task
    .command("import")
    .description("import task files (a .md file, or every .md under a folder), all or nothing")
    .argument("<file-or-dir>")
    .action(async (path: string, _options: unknown, command: Command) => {
      const files = markdownFiles(path).map((file) => ({ name: file, text: readText(file) }));
      if (files.length === 0) throw new CookError("invalid", `no .md files in ${path}`);
      const tasks = await clientFor(command).importTasks(files);
      process.stdout.write(`imported ${tasks.length} task${tasks.length === 1 ? "" : "s"}\n`);
    });

  task
    .command("export")
    .description("write every task to <dir>/<id>.md")
    .argument("<dir>")
    .action(async (dir: string, _options: unknown, command: Command) => {
      const tasks = await clientFor(command).exportTasks();
      try {
        mkdirSync(dir, { recursive: true });
        for (const t of tasks) writeFileSync(join(dir, `${basename(t.id)}.md`), t.markdown);
      } catch (err) {
        throw new CookError("invalid", `cannot write to ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      process.stdout.write(`exported ${tasks.length} task${tasks.length === 1 ? "" : "s"} to ${dir}\n`);
    });
}
