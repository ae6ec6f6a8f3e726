import type { Branch, Environment } from "../core/branch.js";
import { processIn } from "../environments/context.js";
import type { EnvironmentDeps } from "../environments/deps.js";
import { runCommand } from "../environments/run-command.js";

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

const maxOutputBytes = 1024 * 1024;

/** Runs git in the environment's checkout, through its backend (inside the sandbox when it is one); output bounded to 1 MiB. */
export async function gitInCheckout(deps: Pick<EnvironmentDeps, "factory" | "dataDir">, branch: Branch, environment: Environment, args: readonly string[]): Promise<GitResult> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let outBytes = 0;
  let errBytes = 0;
  const code = await runCommand(processIn(deps, branch, environment, ["git", ...args]), {
    stdout: (chunk) => {
      if (outBytes < maxOutputBytes) out.push(chunk);
      outBytes += chunk.length;
    },
    stderr: (chunk) => {
      if (errBytes < maxOutputBytes) err.push(chunk);
      errBytes += chunk.length;
    },
  });
  return { code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") };
}

/** Paths with changes no commit holds (staged, unstaged, untracked; ignored files are not), from `git status --porcelain -z`. */
export async function uncommittedPaths(deps: Pick<EnvironmentDeps, "factory" | "dataDir">, branch: Branch, environment: Environment): Promise<string[]> {
  const status = await gitInCheckout(deps, branch, environment, ["status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames"]);
  if (status.code !== 0) throw new Error(`git status failed: ${status.stderr.trim().split("\n").pop()}`);
  return status.stdout
    .split("\0")
    .filter((entry) => entry.length > 3)
    .map((entry) => entry.slice(3));
}

/** The checkout's HEAD commit, or undefined when it has none. */
export async function checkoutHead(deps: Pick<EnvironmentDeps, "factory" | "dataDir">, branch: Branch, environment: Environment): Promise<string | undefined> {
  const head = await gitInCheckout(deps, branch, environment, ["rev-parse", "--verify", "--quiet", "HEAD"]);
  return head.code === 0 ? head.stdout.trim() : undefined;
}

/** Pushes the checkout's HEAD to the branch on the forge, as the environment (its token, its hooks and policy). */
export async function pushCheckout(deps: Pick<EnvironmentDeps, "factory" | "dataDir">, branch: Branch, environment: Environment): Promise<GitResult> {
  return gitInCheckout(deps, branch, environment, ["push", "--quiet", "origin", `HEAD:refs/heads/${branch.name}`]);
}
