import type { Branch, BranchStatus, Environment } from "../core/branch.js";
import { selectBranches } from "../db/branch-store.js";
import { findLatestEnvironment, latestEnvironmentsOf, readSetupLog } from "../db/environment-store.js";
import { repoDir } from "../forge/paths.js";
import { repoExists } from "../forge/repos.js";
import type { Git } from "../git/git.js";
import { listRefs } from "../git/refs.js";
import { resolveBranch, type BranchDeps } from "./deps.js";

/** A branch as lists show it: the record, where its head is, how far it is from its base, and its environment. */
export interface BranchSummary extends Branch {
  /** The commit the branch points at (its archived commit once ended); undefined if the ref is gone. */
  head: string | undefined;
  /** Commits on the branch not on the base branch's head, and the other way round. */
  ahead: number | undefined;
  behind: number | undefined;
  /** Set while ahead/behind is being counted in the background (listBranches with `countLater`). */
  counting?: boolean;
  environment: Environment | undefined;
}

export interface BranchDetail extends BranchSummary {
  /** `git diff --numstat` from where the branch left its base to its head. */
  diff: { files: Array<{ path: string; added: number | undefined; deleted: number | undefined }>; added: number; deleted: number };
  setupLog: string;
}

export interface BranchListFilter {
  repo?: string;
  status?: BranchStatus;
  taskId?: string;
}

export interface ListOptions {
  /**
   * Ahead/behind counts not known yet are left undefined (with `counting` set) and counted in the
   * background, instead of waited for: for a page that must answer at once and asks again.
   */
  countLater?: boolean;
}

/**
 * Branches by last activity with heads, ahead/behind and environments. Ahead/behind is remembered
 * by sha, so a second look costs no git process; what is not known yet costs one per branch,
 * waited for unless `countLater`.
 */
export async function listBranches(deps: Pick<BranchDeps, "db" | "git" | "dataDir">, filter: BranchListFilter = {}, options: ListOptions = {}): Promise<BranchSummary[]> {
  return summarize(deps, await selectBranches(deps.db, filter), options);
}

// Counts not known yet (a server just started, a base branch that moved: every branch of the repo)
// cost a git process each, and forking this process blocks it for about 15 ms a process: at most
// this many run at once (a hundred at once took 2 s on two cores and stalled every other request).
const countingAtOnce = 4;
// Background counts start a moment later, once the page that found them unknown is answered.
const countLaterDelayMs = 250;

async function summarize(deps: Pick<BranchDeps, "db" | "git" | "dataDir">, branches: Branch[], options: ListOptions = {}): Promise<BranchSummary[]> {
  const environments = await latestEnvironmentsOf(deps.db, branches.map((branch) => branch.id));
  const headsByRepo = new Map<string, Promise<Map<string, string>>>();
  const headsOf = (repo: string) => {
    let heads = headsByRepo.get(repo);
    if (!heads) headsByRepo.set(repo, (heads = readHeads(deps.git, deps.dataDir, repo)));
    return heads;
  };
  const counting = limit(countingAtOnce);
  const later: Array<() => Promise<unknown>> = [];
  const summaries = await Promise.all(
    branches.map(async (branch): Promise<BranchSummary> => {
      const heads = await headsOf(branch.repo);
      const head = heads.get(branch.status === "open" ? `refs/heads/${branch.name}` : (branch.archiveRef ?? ""));
      const baseHead = heads.get(`refs/heads/${branch.baseBranch}`);
      const summary: BranchSummary = { ...branch, head, ahead: undefined, behind: undefined, environment: environments.get(branch.id) };
      if (!head || !baseHead) return summary;
      const gitDir = repoDir(deps.dataDir, branch.repo);
      const args = aheadBehindArgs(head, baseHead);
      const known = deps.git.rememberedText(gitDir, args);
      if (known === undefined && options.countLater) {
        later.push(() => deps.git.immutableText(gitDir, args));
        return { ...summary, counting: true };
      }
      return { ...summary, ...parseCounts(known ?? (await counting(() => deps.git.immutableText(gitDir, args)))) };
    }),
  );
  if (later.length > 0) setTimeout(() => later.forEach((count) => void counting(count).catch(() => {})), countLaterDelayMs).unref();
  return summaries;
}

/** Runs at most `n` of the functions given to it at once. */
function limit(n: number): <T>(run: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async (run) => {
    if (active >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await run();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

async function readHeads(git: Git, dataDir: string, repo: string): Promise<Map<string, string>> {
  if (!repoExists(dataDir, repo)) return new Map();
  // A listing older than the refs' 5 s safety net is used while a fresh one is read: every push
  // and every ref Cook moves drops it anyway, and the dashboard must not wait on a git process.
  const refs = await listRefs(git, repoDir(dataDir, repo), ["refs/heads/", "refs/archive/"], { revalidate: true });
  return new Map(refs.map((ref) => [ref.name, ref.sha]));
}

const aheadBehindArgs = (head: string, baseHead: string) => ["rev-list", "--left-right", "--count", `${head}...${baseHead}`];

function parseCounts(out: string): { ahead: number; behind: number } {
  const [ahead, behind] = out.trim().split(/\s+/).map(Number);
  return { ahead: ahead ?? 0, behind: behind ?? 0 };
}

/** Everything about one branch (see resolveBranch for what `ref` may be), with its diff summary against its base. */
export async function getBranchDetail(deps: Pick<BranchDeps, "db" | "git" | "dataDir">, ref: string, repo?: string): Promise<BranchDetail> {
  const branch = await resolveBranch(deps.db, ref, repo);
  const [summary] = await summarize(deps, [branch]);
  const environment = await findLatestEnvironment(deps.db, branch.id);
  const gitDir = repoDir(deps.dataDir, branch.repo);
  const diff = summary!.head && repoExists(deps.dataDir, branch.repo) ? await diffSummary(deps.git, gitDir, branch.baseCommit, summary!.head) : { files: [], added: 0, deleted: 0 };
  return { ...summary!, environment, diff, setupLog: environment ? await readSetupLog(deps.db, environment.id) : "" };
}

async function diffSummary(git: Git, gitDir: string, baseCommit: string, head: string): Promise<BranchDetail["diff"]> {
  const from = (await git.immutableText(gitDir, ["merge-base", baseCommit, head], { okCodes: [1] })).trim() || baseCommit;
  const out = await git.immutableText(gitDir, ["diff", "--numstat", "-z", "--no-renames", from, head]);
  const files: BranchDetail["diff"]["files"] = [];
  for (const entry of out.split("\0")) {
    const match = /^(-|\d+)\t(-|\d+)\t(.*)$/s.exec(entry);
    if (!match) continue;
    files.push({ path: match[3]!, added: match[1] === "-" ? undefined : Number(match[1]), deleted: match[2] === "-" ? undefined : Number(match[2]) });
  }
  return { files, added: files.reduce((n, f) => n + (f.added ?? 0), 0), deleted: files.reduce((n, f) => n + (f.deleted ?? 0), 0) };
}
