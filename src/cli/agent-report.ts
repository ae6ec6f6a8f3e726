import { spawnSync } from "node:child_process";
import type { Command } from "commander";
import { CookError } from "../core/errors.js";
import { clientFor } from "./context.js";
import { printLine, terminalSafe } from "./output.js";

/** The branch this process works on, from the variables Cook gives every environment process. */
function environmentBranch(what: string): { repo: string; branch: string } {
  const repo = process.env.COOK_REPO;
  const branch = process.env.COOK_BRANCH;
  if (!repo || !branch) throw new CookError("invalid", `${what} runs inside a Cook environment (COOK_REPO and COOK_BRANCH are not set); start one with cook branch create`);
  return { repo, branch };
}

function git(args: string[]): { ok: boolean; stdout: string; stderr: string } {
  const result = spawnSync("git", args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw new CookError("unavailable", `cannot run git: ${result.error.message}`);
  return { ok: result.status === 0, stdout: result.stdout, stderr: result.stderr };
}

const lastLine = (text: string) => text.trim().split("\n").pop() ?? "";

/**
 * `cook done` and `cook ask-for-help`: what an agent (or a person in an environment's shell) calls
 * to end its work. Both use only what Cook put in the environment: COOK_SERVER, COOK_TOKEN,
 * COOK_REPO, COOK_BRANCH, and the checkout's origin.
 */
export function registerAgentReports(program: Command): void {
  program
    .command("done")
    .description("inside an environment: push this branch's commits and end the agent session as done (refuses while changes are uncommitted)")
    .action(async (_options: object, command: Command) => {
      const where = environmentBranch("cook done");
      const status = git(["status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames"]);
      if (!status.ok) throw new CookError("invalid", `cook done runs in the environment's checkout: ${lastLine(status.stderr)}`);
      const dirty = status.stdout.split("\0").filter((entry) => entry.length > 3).map((entry) => entry.slice(3));
      if (dirty.length > 0) {
        const listed = dirty.slice(0, 20).join(", ") + (dirty.length > 20 ? ` and ${dirty.length - 20} more` : "");
        throw new CookError("conflict", `uncommitted changes in ${dirty.length} file(s): ${listed}; commit them (or remove them) and run cook done again`);
      }
      const push = git(["push", "--quiet", "origin", `HEAD:refs/heads/${where.branch}`]);
      if (!push.ok) throw new CookError("unavailable", `git push failed: ${lastLine(push.stderr)}`);
      const head = git(["rev-parse", "--short", "HEAD"]).stdout.trim();
      const session = await clientFor(command).reportDone(where);
      printLine(`pushed ${where.branch} at ${head}; ${session ? `session ${session.id} is done` : "no agent session to end"}`);
    });

  program
    .command("ask-for-help <message...>")
    .description("inside an environment: stop and ask a human; the task waits on them (needs_human) until they answer with cook branch prompt")
    .action(async (words: string[], _options: object, command: Command) => {
      const where = environmentBranch("cook ask-for-help");
      const session = await clientFor(command).reportHelp(words.join(" "), where);
      printLine(terminalSafe(`asked for help on ${where.branch} (session ${session.id}); a human's answer resumes the session`));
    });
}
