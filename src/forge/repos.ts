import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Actor } from "../core/actor.js";
import { CookError } from "../core/errors.js";
import type { ImportFrom } from "../core/import-source.js";
import { checkNewRepoName, isValidBranchName, isValidRepoName } from "../core/names.js";
import type { Db } from "../db/db.js";
import type { EventLog } from "../events/event-log.js";
import { newEvent } from "../events/event.js";
import { subjects } from "../events/subjects.js";
import type { Git } from "../git/git.js";
import { listRefs, readHead } from "../git/refs.js";
import { GitCommandError, runGit } from "../git/run-git.js";
import { cloneArgs, planImport, type ResolveHost } from "./import-source.js";
import { repoDir, reposDirOf, trashDirOf } from "./paths.js";
import { configureRepo, hookScript, installHooks } from "./repo-setup.js";

export interface RepoDeps {
  dataDir: string;
  db: Db;
  events: EventLog;
  git: Git;
}

export interface Repo {
  name: string;
  /** The branch HEAD names, which need not exist yet; undefined when HEAD is detached. */
  defaultBranch: string | undefined;
  defaultBranchExists: boolean;
  /** The commit a detached HEAD holds. */
  detachedHead: string | undefined;
  branchCount: number;
  tagCount: number;
  /** Newest commit date over all branches and tags; absent for an empty repo. */
  lastCommitAt: string | undefined;
  sizeBytes: number;
}

function folderSize(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += folderSize(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}

async function describeRepo(deps: RepoDeps, name: string): Promise<Repo> {
  const gitDir = repoDir(deps.dataDir, name);
  const [head, refs] = await Promise.all([readHead(deps.git, gitDir), listRefs(deps.git, gitDir)]);
  const branches = refs.filter((ref) => ref.name.startsWith("refs/heads/"));
  return {
    name,
    defaultBranch: head.branch,
    defaultBranchExists: branches.some((ref) => ref.short === head.branch),
    detachedHead: head.branch === undefined ? head.detached : undefined,
    branchCount: branches.length,
    tagCount: refs.length - branches.length,
    // Annotated tags sort by their own (empty) committer date: the newest is found, not taken first.
    lastCommitAt: refs.reduce<string | undefined>((newest, ref) => (ref.committedAt && (!newest || ref.committedAt > newest) ? ref.committedAt : newest), undefined),
    sizeBytes: folderSize(gitDir),
  };
}

export function repoExists(dataDir: string, name: string): boolean {
  return isValidRepoName(name) && existsSync(join(repoDir(dataDir, name), "HEAD"));
}

/** Throws not_found for a repo that does not exist (or whose name could not exist). */
export function requireRepo(dataDir: string, name: string): string {
  if (!repoExists(dataDir, name)) throw new CookError("not_found", `no repo named '${name}'`);
  return repoDir(dataDir, name);
}

export async function getRepo(deps: RepoDeps, name: string): Promise<Repo> {
  requireRepo(deps.dataDir, name);
  return describeRepo(deps, name);
}

/** Repos are the `<name>.git` folders of the repos dir: there is no other list to fall out of step. */
export function listRepoNames(dataDir: string): string[] {
  const dir = reposDirOf(dataDir);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((entry) => entry.endsWith(".git") && isValidRepoName(entry.slice(0, -4)))
    .map((entry) => entry.slice(0, -4))
    .filter((name) => repoExists(dataDir, name))
    .sort((a, b) => a.localeCompare(b));
}

/** Every repo with its default branch, last commit and size (two git commands per repo). */
export async function listRepos(deps: RepoDeps): Promise<Repo[]> {
  return Promise.all(listRepoNames(deps.dataDir).map((name) => describeRepo(deps, name)));
}

/**
 * Builds the repository in a hidden folder and moves it into place in the transaction that
 * records its event, so a half-made repo is never listed or served.
 */
async function materialise(deps: RepoDeps, name: string, build: (tmpDir: string) => Promise<void>, event: "created" | "imported", actor: Actor, data: object): Promise<Repo> {
  checkNewRepoName(name);
  const reposDir = reposDirOf(deps.dataDir);
  mkdirSync(reposDir, { recursive: true });
  const finalDir = repoDir(deps.dataDir, name);
  if (existsSync(finalDir)) throw new CookError("conflict", `repo '${name}' already exists`);
  const tmpDir = join(reposDir, `.tmp-${name}-${randomBytes(4).toString("hex")}`);
  try {
    await build(tmpDir);
    await configureRepo(deps.git, tmpDir);
    installHooks(tmpDir);
    await deps.db.transaction(async (tx) => {
      await deps.events.append(tx, newEvent(subjects.repo(name, event), name, { data: { ...data, by: actor.name } }));
      if (existsSync(finalDir)) throw new CookError("conflict", `repo '${name}' already exists`);
      renameSync(tmpDir, finalDir);
    });
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
  }
  return describeRepo(deps, name);
}

export async function createRepo(deps: RepoDeps, input: { name: string; defaultBranch: string }, actor: Actor): Promise<Repo> {
  if (!isValidBranchName(input.defaultBranch)) throw new CookError("invalid", `'${input.defaultBranch}' is not a valid branch name`);
  return materialise(
    deps,
    input.name,
    async (tmpDir) => void (await runGit(["init", "--bare", "--quiet", `--initial-branch=${input.defaultBranch}`, tmpDir])),
    "created",
    actor,
    { defaultBranch: input.defaultBranch },
  );
}

export interface ImportDeps extends RepoDeps {
  config: { forge: { importFrom: ImportFrom } };
  /** How host names are resolved before they are checked and pinned (default: the system resolver). */
  resolveHost?: ResolveHost;
}

/**
 * Imports every branch and tag of a git URL or local path; the source's default branch stays the
 * default. Who may import from where is planImport's decision; the URL's credentials are used for
 * the clone only, never stored, published or shown.
 */
export async function importRepo(deps: ImportDeps, input: { name: string; source: string }, actor: Actor): Promise<Repo> {
  const plan = await planImport(input.source, { actor, importFrom: deps.config.forge.importFrom }, deps.resolveHost);
  return materialise(
    deps,
    input.name,
    async (tmpDir) => {
      try {
        await runGit(cloneArgs(plan, tmpDir), { timeoutMs: 30 * 60_000 });
      } catch (err) {
        if (err instanceof GitCommandError) throw new CookError("invalid", plan.describeFailure(err.result.stderr));
        throw err;
      }
      // The remote's URL (with any credentials) is the only trace of the source a clone keeps.
      await deps.git.run(tmpDir, ["remote", "remove", "origin"]);
    },
    "imported",
    actor,
    { source: plan.display },
  );
}

/** Moves the repo to the trash with a timestamp; nothing is deleted. */
export async function removeRepo(deps: RepoDeps, name: string, actor: Actor): Promise<{ trashedTo: string }> {
  const gitDir = requireRepo(deps.dataDir, name);
  const trashDir = trashDirOf(deps.dataDir);
  mkdirSync(trashDir, { recursive: true });
  const trashedTo = join(trashDir, `${name}-${new Date().toISOString().replace(/[:.]/g, "-")}.git`);
  await deps.db.transaction(async (tx) => {
    await deps.events.append(tx, newEvent(subjects.repo(name, "removed"), name, { data: { trashedTo, by: actor.name } }));
    deps.git.forget(gitDir);
    renameSync(gitDir, trashedTo);
  });
  return { trashedTo };
}

/** At start-up: every repo gets the current hook scripts (the package may have been upgraded). */
export function refreshHooks(deps: Pick<RepoDeps, "dataDir">): number {
  const dir = reposDirOf(deps.dataDir);
  if (!existsSync(dir)) return 0;
  let refreshed = 0;
  const script = hookScript();
  for (const entry of readdirSync(dir)) {
    if (!entry.endsWith(".git") || !repoExists(deps.dataDir, entry.slice(0, -4))) continue;
    const gitDir = join(dir, entry);
    if (installHooks(gitDir, script)) refreshed++;
  }
  return refreshed;
}
