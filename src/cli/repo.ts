import type { Command } from "commander";
import { CookError } from "../core/errors.js";
import { formatBytes } from "../core/format.js";
import type { RepoInfo } from "../client/http-client.js";
import { clientFor } from "./context.js";
import { printJson, printLine, printTable } from "./output.js";

async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) throw new CookError("invalid", "refusing to remove without confirmation: pass --yes");
  const { createInterface } = await import("node:readline/promises");
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export function registerRepo(program: Command): void {
  const repo = program.command("repo").description("git repositories served by the factory");

  repo
    .command("add")
    .description("create an empty repo, or import every branch and tag from a git URL or path")
    .argument("<name>", "letters, digits, '.', '_', '-'; at most 100 characters")
    .option("--clone <url-or-path>", "import from this repository")
    .option("--default-branch <branch>", "default branch of a new empty repo (default [defaults] branch, main)")
    .option("--json", "print JSON")
    .action(async (name: string, options: { clone?: string; defaultBranch?: string; json?: boolean }, command: Command) => {
      const client = clientFor(command);
      const created = await client.addRepo({ name, clone: options.clone, defaultBranch: options.defaultBranch });
      if (options.json) return printJson(created);
      printLine(`${options.clone ? "imported" : "created"} ${created.name}: ${client.serverUrl}/${created.name}.git (${created.defaultBranch === undefined ? "no default branch: HEAD is detached" : `default branch ${created.defaultBranch}`})`);
    });

  repo
    .command("list")
    .description("list repos with their default branch, last commit and size")
    .option("--json", "print JSON")
    .action(async (options: { json?: boolean }, command: Command) => {
      const repos = await clientFor(command).listRepos();
      if (options.json) return printJson(repos);
      if (repos.length === 0) {
        process.stdout.write("no repos yet: cook repo add <name>\n");
        return;
      }
      printTable(
        ["NAME", "DEFAULT BRANCH", "LAST COMMIT", "SIZE"],
        repos.map((r) => [r.name, defaultBranchCell(r), r.lastCommitAt ? r.lastCommitAt.replace("T", " ").slice(0, 16) : "-", formatBytes(r.sizeBytes)]),
      );
    });

  repo
    .command("remove")
    .description("move a repo to the trash (<data_dir>/trash); nothing is deleted")
    .argument("<name>", "the repo")
    .option("-y, --yes", "do not ask for confirmation")
    .action(async (name: string, options: { yes?: boolean }, command: Command) => {
      if (!options.yes && !(await confirm(`move repo '${name}' to the trash? [y/N] `))) {
        process.stderr.write("cook: not removed\n");
        process.exitCode = 1;
        return;
      }
      const { trashedTo } = await clientFor(command).removeRepo(name);
      printLine(`moved ${name} to ${trashedTo}`);
    });
}

/** The default branch as `cook repo list` shows it, saying when it is missing or HEAD is detached. */
function defaultBranchCell(repo: RepoInfo): string {
  if (repo.defaultBranch === undefined) return `(detached HEAD${repo.detachedHead ? ` at ${repo.detachedHead.slice(0, 12)}` : ""})`;
  return repo.defaultBranchExists ? repo.defaultBranch : `${repo.defaultBranch} (not created yet)`;
}
