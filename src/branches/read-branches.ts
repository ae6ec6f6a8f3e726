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

/** Branches by last activity with heads, ahead/behind and environments; git answers are remembered by sha, so a second look costs no git process. */
export async function listBranches(deps: Pick<BranchDeps, "db" | "git" | "dataDir">, filter: BranchListFilter = {}): Promise<BranchSummary[]> {
  return summarize(deps, await selectBranches(deps.db, filter));
}

async function summarize(deps: Pick<BranchDeps, "db" | "git" | "dataDir">, branches: Branch[]): Promise<BranchSummary[]> {
  const environments = await latestEnvironmentsOf(deps.db, branches.map((branch) => branch.id));
  const headsByRepo = new Map<string, Promise<Map<string, string>>>();
  const headsOf = (repo: string) => {
    let heads = headsByRepo.get(repo);
    if (!heads) headsByRepo.set(repo, (heads = readHeads(deps.git, deps.dataDir, repo)));
    return heads;
  };
  return Promise.all(
    branches.map(async (branch) => {
      const heads = await headsOf(branch.repo);
      const head = heads.get(branch.status === "open" ? `refs/heads/${branch.name}` : (branch.archiveRef ?? ""));
      const baseHead = heads.get(`refs/heads/${branch.baseBranch}`);
      const counts = head && baseHead ? await aheadBehind(deps.git, repoDir(deps.dataDir, branch.repo), head, baseHead) : undefined;
      return { ...branch, head, ahead: counts?.ahead, behind: counts?.behind, environment: environments.get(branch.id) };
    }),
  );
}

async function readHeads(git: Git, dataDir: string, repo: string): Promise<Map<string, string>> {
  if (!repoExists(dataDir, repo)) return new Map();
  const refs = await listRefs(git, repoDir(dataDir, repo), ["refs/heads/", "refs/archive/"]);
  return new Map(refs.map((ref) => [ref.name, ref.sha]));
}

async function aheadBehind(git: Git, gitDir: string, head: string, baseHead: string): Promise<{ ahead: number; behind: number }> {
  const out = await git.immutableText(gitDir, ["rev-list", "--left-right", "--count", `${head}...${baseHead}`]);
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
