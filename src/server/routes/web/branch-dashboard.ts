import { branchTree } from "../../../branches/branch-tree.js";
import { predictConflicts } from "../../../branches/predict-conflicts.js";
import { humanReasonsOfTasks, latestSessionsOf } from "../../../agents/read-sessions.js";
import { listBranches, type BranchListFilter } from "../../../branches/read-branches.js";
import type { Actor } from "../../../core/actor.js";
import { agentRepoOf, may } from "../../../core/authorization.js";
import { branchStatuses } from "../../../core/branch.js";
import { latestRunsOfBranches } from "../../../db/gate-run-store.js";
import { listRepoNames, repoExists } from "../../../forge/repos.js";
import { listTaskLinks } from "../../../tasks/read-tasks.js";
import type { Services } from "../../services.js";
import { presentSession } from "./agent-view.js";
import { presentBranch } from "./branch-links.js";
import { liveUrlFor } from "./forms.js";
import { presentRunBadge } from "./gate-view.js";

const filterQuery = (filter: BranchListFilter) => ({ repo: filter.repo, status: filter.status, task: filter.taskId });

/** `?repo=…&status=…` of a filter, or "" when it filters nothing. */
export function filterQueryString(filter: BranchListFilter): string {
  const params = new URLSearchParams(Object.entries(filterQuery(filter)).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ""));
  return params.size ? `?${params}` : "";
}

/**
 * The Branches dashboard (views/branches/index.njk): each branch with its task, its agent's state,
 * its newest gate run (open branches), its environment and disk use as last measured. Tasks,
 * sessions and runs are read for all rows at once.
 */
export async function readDashboard(services: Services, actor: Actor, filter: BranchListFilter) {
  // The stream's start first: a change made while the list is read is then sent, not missed.
  const liveUrl = await liveUrlFor(services, "/branches/live", { repo: filter.repo });
  const rows = await listBranches(services, filter, { countLater: true });
  const ids = rows.map((row) => row.id);
  const [tasks, agents, runs] = await Promise.all([
    listTaskLinks(services, rows.flatMap((row) => (row.taskId ? [row.taskId] : []))).then((list) => new Map(list.map((task) => [task.id, task]))),
    latestSessionsOf(services, ids),
    latestRunsOfBranches(services.db, rows.filter((row) => row.status === "open").map((row) => row.id)),
  ]);
  const reasons = await humanReasonsOfTasks(services, [...tasks.values()].filter((task) => task.status === "needs_human").map((task) => task.id));
  let measuring = false;
  const branches = rows
    .map((row) => {
      const environment = row.environment && row.environment.state !== "torn_down" ? row.environment : undefined;
      const disk = environment ? services.diskUse.peek(environment) : undefined;
      if (disk && !disk.fresh) measuring = true;
      const agent = agents.get(row.id);
      const run = runs.get(row.id);
      return {
        ...presentBranch(row),
        task: row.taskId ? { ...(tasks.get(row.taskId) ?? { id: row.taskId, title: undefined, status: undefined }), waitingReason: reasons.get(row.taskId) } : undefined,
        agent: agent ? presentSession(agent) : undefined,
        gates: run ? presentRunBadge(run) : undefined,
        liveEnvironment: Boolean(environment),
        disk: disk?.bytes,
      };
    })
    .sort((a, b) => (a.lastActivity < b.lastActivity ? 1 : a.lastActivity > b.lastActivity ? -1 : 0));
  // Sub-branches (a sub-task's, made from its parent task's branch) sit under the branch they merge into.
  const tree = branchTree(branches);
  const query = filterQueryString(filter);
  // Predicted conflicts between the repo's open branches, when the dashboard shows one repo.
  const conflicts = filter.repo && repoExists(services.dataDir, filter.repo) ? await predictConflicts(services, filter.repo) : [];
  return {
    branches: tree,
    conflicts,
    filter,
    repos: listRepoNames(services.dataDir).filter((name) => [undefined, name].includes(agentRepoOf(actor))),
    statuses: branchStatuses,
    listUrl: `/branches${query}`,
    liveUrl,
    diskUrl: measuring ? `/branches/disk-use${query}` : undefined,
    // Ahead/behind not known yet is counted in the background; the list asks again shortly.
    counting: tree.some((branch) => branch.counting),
    canCreate: may(actor, "change", filter.repo ? { repo: filter.repo } : "factory"),
  };
}
