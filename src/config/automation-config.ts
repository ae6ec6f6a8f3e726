import { Cron } from "croner";
import Mustache from "mustache";
import { CookError } from "../core/errors.js";
import { maxPriority } from "../core/task.js";
import { parseToml, type TomlTable } from "./toml-file.js";

/** What an automation makes: a task from templates (Mustache: `{{event.data.gate}}`, no code). */
export interface AutomationTaskTemplate {
  title: string;
  body: string;
  labels: readonly string[];
  priority: number | undefined;
}

/**
 * One `[[automations]]` entry of a repo's cook.toml: on a `cron` schedule (croner syntax, 5 fields,
 * or 6 with seconds first; in `timezone`, default the server's) or `on` an event subject pattern
 * (NATS wildcards), it creates a task from `task`; with autopilot on, autopilot runs it.
 */
export interface AutomationDefinition {
  name: string;
  cron: string | undefined;
  timezone: string | undefined;
  on: string | undefined;
  task: AutomationTaskTemplate;
}

const automationName = /^[a-z0-9][a-z0-9_-]{0,39}$/;
const maxAutomations = 50;
const knownKeys = ["name", "cron", "timezone", "on", "task"];
const taskKeys = ["title", "body", "labels", "priority"];
// A subject pattern: dot-separated tokens, `*` for one, `>` only last (NATS).
const subjectPattern = /^(?:[^.\s*>]+|\*)(?:\.(?:[^.\s*>]+|\*))*(?:\.>)?$|^>$/;

const describe = (value: unknown) => (typeof value === "string" ? JSON.stringify(value) : Array.isArray(value) ? "an array" : value !== null && typeof value === "object" ? "a table" : String(value));
const isTable = (value: unknown): value is TomlTable => value !== null && typeof value === "object" && !Array.isArray(value) && !(value instanceof Date);

/** Mustache's parse error for a template, or undefined when it parses. */
function templateProblem(template: string): string | undefined {
  try {
    Mustache.parse(template);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * The `[[automations]]` of a cook.toml's text (undefined: none). Throws CookError("invalid") listing
 * every problem, each naming `source` and the entry: a name that is missing, malformed or repeated,
 * neither or both of cron and on, a cron expression croner refuses, a malformed subject pattern, a
 * task without a title, a template that does not parse, an unknown key.
 */
export function parseAutomations(text: string | undefined, source = "cook.toml"): AutomationDefinition[] {
  if (text === undefined) return [];
  const doc = parseToml(text, source);
  const list = doc.automations;
  if (list === undefined) return [];
  const problems: string[] = [];
  if (!Array.isArray(list)) throw new CookError("invalid", `${source}: automations must be an array of tables: [[automations]]`);
  if (list.length > maxAutomations) problems.push(`${source}: at most ${maxAutomations} automations (got ${list.length})`);
  const seen = new Set<string>();
  const automations: AutomationDefinition[] = [];
  list.forEach((entry, index) => {
    const where = `${source}: automations[${index}]`;
    if (!isTable(entry)) return void problems.push(`${where} must be a table`);
    for (const key of Object.keys(entry)) if (!knownKeys.includes(key)) problems.push(`${where}: unknown key ${key} (known keys: ${knownKeys.join(", ")})`);
    const name = entry.name;
    if (typeof name !== "string" || !automationName.test(name)) problems.push(`${where}: name must be 1-40 lowercase letters, digits, '-' or '_' (got ${describe(name)})`);
    else if (seen.has(name)) problems.push(`${where}: a second automation named ${JSON.stringify(name)}`);
    else seen.add(name);
    const label = typeof name === "string" ? `${source}: automation ${JSON.stringify(name)}` : where;
    const { cron, on, timezone } = entry;
    if ((cron === undefined) === (on === undefined)) problems.push(`${label}: give exactly one of cron (a schedule) or on (an event subject pattern)`);
    if (cron !== undefined) {
      if (typeof cron !== "string") problems.push(`${label}: cron must be a string like "0 3 * * *" (got ${describe(cron)})`);
      else {
        try {
          new Cron(cron, { paused: true });
        } catch (err) {
          problems.push(`${label}: cron ${JSON.stringify(cron)} is not a schedule: ${(err as Error).message}`);
        }
      }
    }
    if (timezone !== undefined && (typeof timezone !== "string" || cron === undefined)) problems.push(`${label}: timezone is a zone name like "Europe/Berlin", for a cron automation`);
    else if (typeof timezone === "string" && !knownTimeZone(timezone)) problems.push(`${label}: timezone ${JSON.stringify(timezone)} is not a time zone this server knows (an IANA name like "Europe/Berlin" or "UTC")`);
    if (on !== undefined && (typeof on !== "string" || !subjectPattern.test(on))) problems.push(`${label}: on must be an event subject pattern like "cook.gate.app.main.*.failed" (got ${describe(on)})`);
    const task = entry.task;
    if (!isTable(task)) return void problems.push(`${label}: needs a [automations.task] table with at least a title`);
    for (const key of Object.keys(task)) if (!taskKeys.includes(key)) problems.push(`${label}: unknown key task.${key} (known keys: ${taskKeys.join(", ")})`);
    const { title, body, labels, priority } = task;
    if (typeof title !== "string" || title.trim() === "") problems.push(`${label}: task.title must be a text (a Mustache template)`);
    if (body !== undefined && typeof body !== "string") problems.push(`${label}: task.body must be a text (a Mustache template)`);
    for (const [key, template] of [["title", title], ["body", body]] as const) {
      const problem = typeof template === "string" ? templateProblem(template) : undefined;
      if (problem) problems.push(`${label}: task.${key} is not a template: ${problem}`);
    }
    if (labels !== undefined && !(Array.isArray(labels) && labels.every((l) => typeof l === "string"))) problems.push(`${label}: task.labels must be an array of strings`);
    if (priority !== undefined && !(Number.isInteger(priority) && (priority as number) >= 0 && (priority as number) <= maxPriority)) problems.push(`${label}: task.priority must be a whole number from 0 to ${maxPriority}`);
    automations.push({
      name: String(name),
      cron: typeof cron === "string" ? cron : undefined,
      timezone: typeof timezone === "string" ? timezone : undefined,
      on: typeof on === "string" ? on : undefined,
      task: { title: String(title ?? ""), body: typeof body === "string" ? body : "", labels: Array.isArray(labels) ? (labels as string[]) : [], priority: typeof priority === "number" ? priority : undefined },
    });
  });
  if (problems.length > 0) throw new CookError("invalid", problems.join("; "));
  return automations;
}

/** Whether the runtime's time-zone data has `zone` (croner takes any name and fails only when it first computes a run). */
function knownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * The newest slot of `automation`'s schedule after `after` and at or before `now`, or undefined
 * when none has come: what a scheduler that last fired at `after` owes now. Slots missed while
 * the server was down are owed once, as this one newest slot, not once each.
 */
export function dueSlot(automation: Pick<AutomationDefinition, "cron" | "timezone">, after: Date, now: Date): Date | undefined {
  if (!automation.cron) return undefined;
  const schedule = new Cron(automation.cron, { paused: true, timezone: automation.timezone });
  const next = schedule.nextRun(after);
  if (!next || next.getTime() > now.getTime()) return undefined;
  const [latest] = schedule.previousRuns(1, new Date(now.getTime() + 1));
  return latest && latest.getTime() > after.getTime() ? latest : next;
}
