import { readHead } from "../git/refs.js";
import type { Git } from "../git/git.js";
import { repoDir } from "./paths.js";

/** A repo's cook.toml as its default branch has it now, or why there is none to read. */
export type DefaultCookToml =
  | { ok: true; target: string; head: string; text: string | undefined }
  | { ok: false; problem: string };

/** How long a read is kept when no event says the default branch moved (a safety net: pushes announce themselves). */
export const cookTomlCacheMs = 60_000;

// Autopilot and automations look at every repo every few seconds: answered from here, not from git,
// so an idle server spawns no git and holds no reader open (forgetCookToml drops a repo's entry
// when its branches or the repo change).
const cache = new Map<string, { at: number; read: Promise<DefaultCookToml> }>();

/**
 * Reads cook.toml at the head of the repo's default branch (short-lived git processes; the answer
 * is kept for cookTomlCacheMs or until forgetCookToml). Not ok, with the reason, for a repo whose
 * HEAD is detached (no default branch) or whose default branch has no commit yet; `text` is
 * undefined when there is no cook.toml.
 */
export function readDefaultCookToml(deps: { git: Git; dataDir: string }, repo: string): Promise<DefaultCookToml> {
  const gitDir = repoDir(deps.dataDir, repo);
  const kept = cache.get(gitDir);
  if (kept && Date.now() - kept.at < cookTomlCacheMs) return kept.read;
  const read = readNow(deps.git, gitDir, repo);
  cache.set(gitDir, { at: Date.now(), read });
  read.catch(() => cache.delete(gitDir));
  return read;
}

/** The default branch of `repo` (or the repo) changed: the next read asks git. */
export function forgetCookToml(dataDir: string, repo: string): void {
  cache.delete(repoDir(dataDir, repo));
}

async function readNow(git: Git, gitDir: string, repo: string): Promise<DefaultCookToml> {
  const headRef = await readHead(git, gitDir);
  if (headRef.branch === undefined) return { ok: false, problem: `${repo} has no default branch: its HEAD is detached${headRef.detached ? ` at ${headRef.detached.slice(0, 12)}` : ""}; point HEAD at one (git symbolic-ref HEAD refs/heads/<branch>)` };
  const target = headRef.branch;
  const head = (await git.text(gitDir, ["rev-parse", "--verify", "--quiet", `refs/heads/${target}^{commit}`], { okCodes: [1] })).trim();
  if (!head) return { ok: false, problem: `${repo} has no commit on ${target} yet` };
  const file = await git.run(gitDir, ["cat-file", "blob", `${head}:cook.toml`], { okCodes: [128] });
  return { ok: true, target, head, text: file.code === 0 ? file.stdout.toString("utf8") : undefined };
}
