import Mustache from "mustache";
import type { Actor } from "../core/actor.js";
import { isCookError } from "../core/errors.js";
import { maxTitleLength } from "../core/task.js";
import { dueSlot, parseAutomations, type AutomationDefinition } from "../config/automation-config.js";
import type { Db, Tx } from "../db/db.js";
import { advanceSlot, firingOfTask, lastSlotOf, recordFiring, setFiringTask } from "../db/automation-store.js";
import { findOpenBranch } from "../db/branch-store.js";
import { listEvents } from "../db/event-store.js";
import { findTask } from "../db/task-store.js";
import type { Bus, Subscription } from "../events/bus.js";
import type { Event } from "../events/event.js";
import type { EventLog } from "../events/event-log.js";
import { encodeToken, subjectMatches } from "../events/subjects.js";
import { readDefaultCookToml } from "../forge/default-cook-toml.js";
import { listRepoNames, repoExists } from "../forge/repos.js";
import type { Git } from "../git/git.js";
import type { Logger } from "../server/logger.js";
import { prepareTask, recordNewTask } from "../tasks/create-task.js";

/** Who the tasks automations make are by; events by it never fire an automation (no loops). */
export const automationActor: Actor = { name: "cook-automation", scope: "admin" };

/** How often schedules are looked at: a 6-field cron (seconds first) can be due every second. */
export const scheduleTickMs = 1000;

export interface AutomationDeps {
  db: Db;
  git: Git;
  dataDir: string;
  events: EventLog;
  log: Logger;
}

/** The running automations of a server. */
export interface Automations {
  stop(): Promise<void>;
}

/** A repo's automations as its default branch's cook.toml says now (cached by its head commit); none when it is invalid (logged once). */
function automationReader(deps: AutomationDeps) {
  const cache = new Map<string, { head: string; automations: AutomationDefinition[] }>();
  return async (repo: string): Promise<AutomationDefinition[]> => {
    if (!repoExists(deps.dataDir, repo)) return [];
    const file = await readDefaultCookToml(deps, repo);
    if (!file.ok) return [];
    const cached = cache.get(repo);
    if (cached?.head === file.head) return cached.automations;
    let automations: AutomationDefinition[] = [];
    try {
      automations = parseAutomations(file.text, `cook.toml on ${file.target}`);
      // Subjects are cook.<kind>.<repo>.…: a pattern naming another repo never sees its events here.
      for (const automation of automations) {
        const repoToken = automation.on?.split(".")[2];
        if (repoToken !== undefined && repoToken !== "*" && repoToken !== ">" && repoToken !== encodeToken(repo)) {
          deps.log.warn({ repo, automation: automation.name, on: automation.on }, "this automation's pattern names another repo: an automation sees only its own repo's events, so it never fires");
        }
      }
    } catch (err) {
      if (!isCookError(err)) throw err;
      deps.log.warn({ repo, problem: err.message }, "automations of this repo are off: its cook.toml is invalid");
    }
    cache.set(repo, { head: file.head, automations });
    return automations;
  };
}

/**
 * Renders a task template: Mustache tags look values up in `view`; nothing is escaped (a task is
 * text, shown escaped). A table (`{{event.data}}`) renders as its JSON, not "[object Object]".
 */
function render(template: string, view: object): string {
  return Mustache.render(template, printableTables(view), {}, { escape: (text: string) => text });
}

/** A copy of `value` whose plain objects print as JSON; their keys stay readable by Mustache's lookups and sections. */
function printableTables(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(printableTables);
  if (value === null || typeof value !== "object" || Object.getPrototypeOf(value) !== Object.prototype) return value;
  const copy = Object.fromEntries(Object.entries(value).map(([key, item]) => [key, printableTables(item)]));
  Object.defineProperty(copy, "toString", { value: () => JSON.stringify(value), enumerable: false });
  return copy;
}

/** The task an automation makes, from its templates and what fired it; undefined (logged) when the result is not a valid task. */
async function makeTask(deps: AutomationDeps, repo: string, automation: AutomationDefinition, view: object, record: (tx: Tx) => Promise<boolean>, after?: (tx: Tx, taskId: string) => Promise<void>): Promise<void> {
  const title = render(automation.task.title, view).replace(/\s+/g, " ").trim().slice(0, maxTitleLength);
  const body = render(automation.task.body, view);
  const extra = automation.task.labels.length ? { labels: [...automation.task.labels], automation: automation.name } : { automation: automation.name };
  try {
    await deps.db.transaction(async (tx) => {
      if (!(await record(tx))) return;
      const task = await prepareTask(deps, tx, { title, body, repo, priority: automation.task.priority, extra });
      const created = await recordNewTask(deps, tx, task, automationActor);
      await after?.(tx, created.id);
    });
  } catch (err) {
    if (!isCookError(err)) throw err;
    // Recorded without a task, so a redelivered event or a due slot does not try again forever.
    await deps.db.transaction(async (tx) => void (await record(tx)));
    deps.log.warn({ repo, automation: automation.name, problem: err.message }, "an automation's task could not be made");
  }
}

// How far back a chain of automations is followed: further than any chain a person means to build.
const maxChain = 10;

/**
 * The automations an event descends from: the one that made the task it is about (`data.task`,
 * else the open branch's task), the one that made the task of the event that fired that one, and so
 * on back (automation_firings), so that no chain of automations — A's task firing B, whose task
 * fires A — goes round for ever. A schedule's task, or a person's, ends the chain.
 */
async function automationsUpstream(deps: AutomationDeps, event: Event): Promise<Set<string>> {
  const seen = new Set<string>();
  let current: Event | undefined = event;
  for (let depth = 0; current && depth < maxChain; depth++) {
    const named = (current.data as { task?: unknown } | undefined)?.task;
    const taskId = typeof named === "string" ? named : current.branch ? (await findOpenBranch(deps.db, current.repo, current.branch))?.taskId : undefined;
    const made = taskId ? (await findTask(deps.db, taskId))?.extra.automation : undefined;
    if (!taskId || typeof made !== "string") break;
    seen.add(made);
    const firing = await firingOfTask(deps.db, taskId);
    current = firing ? (await listEvents(deps.db, { afterId: firing.eventId - 1, beforeId: firing.eventId + 1, limit: 1, order: "asc" }))[0] : undefined;
  }
  return seen;
}

/**
 * Starts the automations of every repo: `on` automations fire from a durable subscriber of every
 * event (`automations`), once per event and automation (automation_firings), never for an event
 * an automation itself caused nor, for an automation, for an event about a task it made or that
 * descends from one it made (automationsUpstream); `cron` automations are looked at every scheduleTickMs and fire once
 * for the newest slot since the last they fired for (dueSlot: slots missed while the server was
 * down fire once, at start-up). A schedule first seen starts counting from then. Each firing makes
 * a task from the automation's templates (title, body, labels, priority; `extra.automation` names
 * it); autopilot, when on, runs it like any ready task.
 */
export async function startAutomations(deps: AutomationDeps, bus: Bus): Promise<Automations> {
  const automationsOf = automationReader(deps);
  let stopped = false;

  const onEvent = async (event: Event) => {
    if ((event.data as { by?: unknown } | undefined)?.by === automationActor.name) return;
    let upstream: Promise<Set<string>> | undefined;
    for (const automation of await automationsOf(event.repo)) {
      if (!automation.on || !subjectMatches(automation.on, event.subject)) continue;
      // Nor for what befell a task it made, or one made from it (merged by autopilot, its gates failed): that would loop.
      if ((await (upstream ??= automationsUpstream(deps, event))).has(automation.name)) continue;
      const view = { repo: event.repo, automation: automation.name, event: { id: event.id, subject: event.subject, type: event.type, repo: event.repo, branch: event.branch, timestamp: event.timestamp, data: event.data ?? {} } };
      await makeTask(deps, event.repo, automation, view, (tx) => recordFiring(tx, event.repo, automation.name, event.id), (tx, taskId) => setFiringTask(tx, event.repo, automation.name, event.id, taskId));
    }
  };
  const subscription: Subscription = await bus.subscribe("cook.>", onEvent, { durable: "automations" });

  let ticking = Promise.resolve();
  // One automation that fails is logged once per reason, not every tick, and holds up no other.
  const reported = new Set<string>();
  const tick = async () => {
    const now = new Date();
    for (const repo of listRepoNames(deps.dataDir)) {
      for (const automation of await automationsOf(repo)) {
        if (!automation.cron || stopped) continue;
        try {
          const last = await lastSlotOf(deps.db, repo, automation.name);
          if (!last) {
            await advanceSlot(deps.db, repo, automation.name, undefined, now);
            continue;
          }
          const slot = dueSlot(automation, last, now);
          if (!slot) continue;
          const view = { repo, automation: automation.name, slot: slot.toISOString() };
          await makeTask(deps, repo, automation, view, (tx) => advanceSlot(tx, repo, automation.name, last, slot));
        } catch (err) {
          if (isCookError(err) && err.code === "unavailable") throw err;
          const key = `${repo}\0${automation.name}\0${(err as Error).message}`;
          if (reported.has(key)) continue;
          reported.add(key);
          deps.log.warn({ repo, automation: automation.name, reason: (err as Error).message }, "an automation's schedule could not be followed");
        }
      }
    }
  };
  const timer = setInterval(() => {
    ticking = ticking.then(tick).catch((err: Error) => deps.log.error({ err }, "automation schedules could not be looked at"));
  }, scheduleTickMs);
  timer.unref();
  ticking = tick().catch((err: Error) => deps.log.error({ err }, "automation schedules could not be looked at"));

  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await subscription.unsubscribe();
      await ticking;
    },
  };
}
