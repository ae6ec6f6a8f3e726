import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { runGit } from "../git/run-git.js";

export interface CheckoutSpec {
  /** The bare repo under `<data_dir>/repos/`. */
  bareDir: string;
  /** Absolute folder to make; must not exist yet (or be empty). */
  path: string;
  branch: string;
  /** The repo's smart HTTP URL: the checkout's `origin`, so work reaches the forge only by `git push`. */
  originUrl: string;
  /** Written as TASK.md and excluded from git, when the branch has a task. */
  taskMarkdown: string | undefined;
}

// Reads the environment's token from its variables when git is asked for credentials: the token is
// never in a file of the checkout. COOK_TOKEN also travels as an extraHeader (process-spec.ts), so
// git rarely needs this; it is here for a client told 401 (an expired header, a proxy).
const credentialHelper = `!f() { test "$1" = get && printf 'username=cook\\npassword=%s\\n' "$COOK_TOKEN"; }; f`;

/**
 * Makes a checkout of `branch` that shares the bare repo's objects through alternates (git clone
 * --shared, gitrepository-layout(5) objects/info/alternates): creation costs a checkout, not a copy
 * of the history, and git never writes into an alternate. Then points `origin` at the forge.
 * Throws GitCommandError when git fails (the caller marks the environment failed).
 */
export async function makeCheckout(spec: CheckoutSpec): Promise<void> {
  mkdirSync(dirname(spec.path), { recursive: true });
  // The server's git refuses the file transport by default (run-git.ts); this one clone of its own repo is allowed it.
  await runGit(["-c", "protocol.file.allow=always", "clone", "--quiet", "--shared", "--branch", spec.branch, "--", spec.bareDir, spec.path]);
  // Appended, not set with `git config` one key at a time: five git processes cost more than the clone.
  const config = [
    `[remote "origin"]`,
    `\turl = ${spec.originUrl}`,
    `[credential]`,
    `\thelper = ${JSON.stringify(credentialHelper)}`,
    `[user]`,
    `\tname = Cook`,
    `\temail = cook@localhost`,
    `[push]`,
    `\tdefault = current`,
    "",
  ].join("\n");
  const gitDir = join(spec.path, ".git");
  // The clone wrote remote.origin.url as the bare path; a second url under the same section would make
  // git fetch from both, so the first is rewritten instead.
  const current = readFileSync(join(gitDir, "config"), "utf8").replace(/\[remote "origin"\]\n\turl = [^\n]*\n/, "");
  writeFileSync(join(gitDir, "config"), current + config);
  if (spec.taskMarkdown !== undefined) {
    writeFileSync(join(spec.path, "TASK.md"), spec.taskMarkdown);
    appendFileSync(join(gitDir, "info", "exclude"), "/TASK.md\n");
  }
}

/**
 * Points an existing checkout's `origin` at the forge's URL when it differs (the server now listens
 * on another port): the remote section written by makeCheckout is rewritten in place. Returns
 * whether it changed anything.
 */
export function repointOrigin(checkout: string, originUrl: string): boolean {
  const file = join(checkout, ".git", "config");
  const current = readFileSync(file, "utf8");
  const next = current.replace(/(\[remote "origin"\]\n\turl = )[^\n]*/, (_all, head: string) => `${head}${originUrl}`);
  if (next === current) return false;
  writeFileSync(file, next);
  return true;
}
