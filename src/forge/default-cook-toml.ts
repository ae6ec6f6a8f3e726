import { defaultBranchOf } from "../branches/branch-git.js";
import { isCookError } from "../core/errors.js";
import { headOf } from "../gates/merge-git.js";
import type { Git } from "../git/git.js";
import { repoDir } from "./paths.js";

/** A repo's cook.toml as its default branch has it now, or why there is none to read. */
export type DefaultCookToml =
  | { ok: true; target: string; head: string; text: string | undefined }
  | { ok: false; problem: string };

/**
 * Reads cook.toml at the head of the repo's default branch through the repo's long-lived cat-file
 * reader (no git process). Not ok, with the reason, for a repo whose HEAD is detached (no default
 * branch) or whose default branch has no commit yet; `text` is undefined when there is no cook.toml.
 */
export async function readDefaultCookToml(deps: { git: Git; dataDir: string }, repo: string): Promise<DefaultCookToml> {
  const gitDir = repoDir(deps.dataDir, repo);
  let target: string;
  try {
    target = await defaultBranchOf(deps.git, gitDir, repo);
  } catch (err) {
    if (!isCookError(err)) throw err;
    return { ok: false, problem: err.message };
  }
  const head = await headOf(deps.git, gitDir, target);
  if (!head) return { ok: false, problem: `${repo} has no commit on ${target} yet` };
  const file = await deps.git.reader(gitDir).read(`${head}:cook.toml`);
  return { ok: true, target, head, text: file?.type === "blob" ? file.content.toString("utf8") : undefined };
}
