import { humanReasonsOfTasks } from "../agents/read-sessions.js";
import type { Actor } from "../core/actor.js";
import { CookError } from "../core/errors.js";
import { checkRepoName } from "../core/names.js";
import type { AutopilotConfig } from "../config/autopilot-config.js";
import { dispatchesHoldingSlots, setAutopilotSwitch } from "../db/autopilot-store.js";
import { findBranchesByIds } from "../db/branch-store.js";
import { parentsWithOpenChildren, type ListedTask } from "../db/task-store.js";
import { requireRepo } from "../forge/repos.js";
import { listTasks } from "../tasks/read-tasks.js";
import { appendAutopilotEvent, dispatchQueue } from "./dispatch.js";
import { overlapCheck, type HeldBack } from "./overlaps.js";
import { readAutopilotSettings } from "./settings.js";
import { readStages, stageOf, type StageSummary } from "./stages.js";
import type { GateDeps } from "../gates/deps.js";
import { mergeReadiness } from "../gates/merge.js";

/** A task as autopilot's status lists it. */
export interface AutopilotTaskLine {
  id: string;
  title: string;
  priority: number;
}

/** What `cook autopilot status` and the repo page show (`GET /api/repos/:name/autopilot`). */
export interface AutopilotStatus {
  repo: string;
  enabled: boolean;
  /** What decided `enabled`: a human's switch, cook.toml's `[autopilot]`, or neither (off). */
  source: "switch" | "cook.toml" | "default";
  changedBy: string | undefined;
  changedAt: string | undefined;
  config: AutopilotConfig;
  /** Why it cannot dispatch although enabled (an invalid cook.toml, an empty repo). */
  problem: string | undefined;
  slots: { used: number; total: number };
  /**
   * Branches holding a slot: their task and branch (none yet while `starting`); `awaitsMerge` when
   * the gates passed on its head and, with `merge` not "auto", it holds its slot until a person merges it.
   */
  running: Array<{ task: string; branch: string | undefined; branchId: string | undefined; state: "starting" | "started"; awaitsMerge?: true }>;
  /** Ready tasks in the order autopilot starts them; `waits`: why one is not started yet (serialize_overlaps). */
  queue: Array<AutopilotTaskLine & { waits?: HeldBack }>;
  /** Tasks waiting on a human (needs_human): they hold no slot. */
  /** `[[automations]]` on the default branch: how many, or why they are all off. */
  automations: { count: number; problem?: string };
  /** Ready tasks carrying none of `[autopilot] labels`: autopilot leaves them to people. */
  unlabelled: AutopilotTaskLine[];
  /** Tasks waiting on a person, with why when their newest agent session says. */
  needsYou: Array<AutopilotTaskLine & { reason?: string }>;
  /** Ready tasks passed over, with why; each is tried again once it changes, or after a while. */
  skipped: Array<AutopilotTaskLine & { reason: string; at: string }>;
  /** Ready tasks whose stage waits for an earlier one to end and be continued past. */
  held: Array<AutopilotTaskLine & { stage: string }>;
  /** Tasks not closed with sub-tasks not closed: no agent works them; their branch collects the sub-tasks'. */
  parents: Array<AutopilotTaskLine & { openSubTasks: number }>;
  /** Ready sub-tasks whose parent cannot take them yet (closed, or waiting for its own dependencies), and ready tasks whose dependency's work is still on a parent's branch, with why. */
  waitingOnParent: Array<AutopilotTaskLine & { parent?: string; reason: string }>;
  /** The repo's stages in order (none when no task names one). */
  stages: StageSummary[];
}

const withWait = (waits: HeldBack | undefined) => (waits ? { waits } : {});
const line = (task: { id: string; title: string; priority: number }): AutopilotTaskLine => ({ id: task.id, title: task.title, priority: task.priority });

/** Autopilot's state in a repo. Throws invalid for a bad repo name, not_found for an unknown repo. */
export async function autopilotStatus(deps: GateDeps, repoName: unknown): Promise<AutopilotStatus> {
  const repo = checkRepoName(repoName);
  requireRepo(deps.dataDir, repo);
  const settings = await readAutopilotSettings(deps, repo);
  const [holding, { tasks, skipped, held, waitingOnParent, unlabelled }, waiting, stages] = await Promise.all([
    dispatchesHoldingSlots(deps.db, repo),
    dispatchQueue(deps, settings),
    listTasks(deps, { repo, status: "needs_human", limit: 100 }),
    readStages(deps, repo),
  ]);
  const overlaps = overlapCheck(deps, settings);
  const branches = await findBranchesByIds(deps.db, holding.flatMap((d) => (d.branchId ? [d.branchId] : [])));
  return {
    repo,
    enabled: settings.enabled,
    source: settings.switch ? "switch" : settings.config.present ? "cook.toml" : "default",
    changedBy: settings.switch?.changedBy,
    changedAt: settings.switch?.changedAt,
    config: settings.config,
    problem: settings.problem,
    automations: settings.automations,
    slots: { used: holding.length, total: settings.config.concurrency },
    running: await Promise.all(
      holding.map(async (d) => {
        const branch = d.branchId ? branches.get(d.branchId) : undefined;
        const awaitsMerge = settings.config.merge !== "auto" && branch?.status === "open" && (await mergeReadiness(deps, branch).catch(() => undefined))?.ok === true;
        return { task: d.taskId, branch: branch?.name, branchId: d.branchId, state: d.state === "starting" ? ("starting" as const) : ("started" as const), ...(awaitsMerge ? { awaitsMerge: true as const } : {}) };
      }),
    ),
    queue: await Promise.all(tasks.map(async (task) => ({ ...line(task), ...withWait(await overlaps.check(task)) }))),
    needsYou: await withReasons(deps, waiting),
    skipped: skipped.map(({ task, dispatch }) => ({ ...line(task), reason: dispatch.reason ?? "", at: dispatch.updatedAt })),
    held: held.map((task) => ({ ...line(task), stage: stageOf(task)! })),
    parents: (await parentsWithOpenChildren(deps.db, repo)).map((task) => ({ ...line(task), openSubTasks: task.openSubTasks })),
    unlabelled: unlabelled.map(line),
    waitingOnParent: waitingOnParent.map(({ task, reason }) => ({ ...line(task), ...(task.parent ? { parent: task.parent } : {}), reason })),
    stages,
  };
}

/** The tasks' lines, each with why it waits on a person when its newest session says. */
async function withReasons(deps: GateDeps, tasks: ListedTask[]): Promise<Array<AutopilotTaskLine & { reason?: string }>> {
  const reasons = await humanReasonsOfTasks(deps, tasks.map((task) => task.id));
  return tasks.map((task) => ({ ...line(task), ...(reasons.has(task.id) ? { reason: reasons.get(task.id)! } : {}) }));
}

/**
 * `cook autopilot on|off <repo>`: the switch, which overrides cook.toml's `[autopilot] enabled`,
 * stored with who flipped it, announced as `cook.autopilot.<repo>.switched`. Turning it off stops
 * new dispatches; branches already working go on. Throws invalid / not_found as autopilotStatus.
 */
export async function switchAutopilot(deps: GateDeps, repoName: unknown, enabled: unknown, actor: Actor): Promise<AutopilotStatus> {
  if (typeof enabled !== "boolean") throw new CookError("invalid", "enabled is true or false");
  const repo = checkRepoName(repoName);
  requireRepo(deps.dataDir, repo);
  await deps.db.transaction(async (tx) => {
    await setAutopilotSwitch(tx, repo, enabled, actor.name);
    await appendAutopilotEvent(deps, tx, repo, "switched", { enabled }, actor);
  });
  return autopilotStatus(deps, repo);
}
