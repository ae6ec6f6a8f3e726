import { spawnSync } from "node:child_process";
import type { Command } from "commander";
import type { BranchDetailInfo, BranchInfo, CookClient } from "../client/http-client.js";
import type { TerminalConnection } from "../client/terminal-client.js";
import type { Environment } from "../core/branch.js";
import { encodeToken } from "../events/subjects.js";
import { clientFor } from "./context.js";
import { printJson, printLine, printTable, terminalSafe } from "./output.js";

const short = (sha: string | undefined) => sha?.slice(0, 8) ?? "-";
const environmentCell = (env: Environment | undefined) => (env ? `${env.backend} ${env.state}` : "none");
const aheadBehind = (branch: BranchInfo) => (branch.ahead === undefined ? "-" : `+${branch.ahead} -${branch.behind}`);

function ago(iso: string): string {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86400)}d ago`;
}

/**
 * Waits for an environment being set up, printing its setup output as it streams; resolves with its
 * final state. The events so far are read first, so output written before the wait began is shown too.
 */
async function followSetup(client: CookClient, repo: string, branch: string, envId: string): Promise<Environment["state"]> {
  const subject = `cook.environment.${encodeToken(repo)}.${encodeToken(branch)}.>`;
  const abort = new AbortController();
  let final: Environment["state"] | undefined;
  const onEvent = (event: { id: number; type: string; data?: unknown }) => {
    const data = event.data as { id?: string; text?: string; error?: string };
    if (data.id !== envId) return;
    if (event.type === "environment.output" && data.text) process.stdout.write(terminalSafe(data.text, { multiline: true }));
    if (event.type === "environment.ready" || event.type === "environment.failed" || event.type === "environment.torn_down") {
      final = event.type.slice("environment.".length) as Environment["state"];
      if (data.error) printLine(`environment failed: ${data.error}`, process.stderr);
      abort.abort();
    }
  };
  const history = await client.listEvents({ subject, after: 0, limit: 1000 });
  for (const event of history) if (!final) onEvent(event);
  if (final) return final;
  await client.followEvents({ subject, after: history.at(-1)?.id ?? 0 }, onEvent, abort.signal);
  return final ?? "failed";
}

function printDetail(branch: BranchDetailInfo): void {
  const env = branch.environment;
  const lines: Array<[string, string]> = [
    ["branch", `${branch.repo}/${branch.name}`],
    ["id", branch.id],
    ["status", branch.status],
    ["task", branch.taskId ?? "-"],
    ["base", `${branch.baseBranch} at ${short(branch.baseCommit)}`],
    ["head", `${short(branch.head)} (${aheadBehind(branch)} against ${branch.baseBranch})`],
    ["created", `${branch.createdAt} by ${branch.createdBy} (${branch.origin})`],
    ["activity", `${branch.updatedAt} (${ago(branch.updatedAt)})`],
  ];
  if (branch.archiveRef) lines.push(["archived", branch.archiveRef]);
  lines.push(["environment", env ? `${env.id} ${env.backend} ${env.state}${env.error ? `: ${env.error}` : ""}` : "none"]);
  if (env) {
    lines.push(["path", env.path], ["ports", env.portCount > 1 ? `${env.portBase}-${env.portBase + env.portCount - 1}` : String(env.portBase)]);
    for (const db of env.databases) lines.push(["database", `${db.name}: ${db.database}`]);
  }
  for (const [key, value] of lines) printLine(`${key.padEnd(12)} ${value}`);
  printLine("");
  printLine(`${branch.diff.files.length} file(s) changed, +${branch.diff.added} -${branch.diff.deleted} against ${branch.baseBranch}`);
  for (const file of branch.diff.files) printLine(`  ${file.added === undefined ? "bin" : `+${file.added} -${file.deleted}`}\t${file.path}`);
}

/**
 * Joins this process's terminal to a remote one until the shell exits, and resolves with its exit
 * status. stdin is put in raw mode when it is a terminal, so every key (Ctrl-C, Ctrl-D, Ctrl-Z)
 * goes to the remote shell; the window's size follows along. A piped stdin that ends is sent as
 * Ctrl-D, the end of input a shell reads from a terminal. The local terminal is restored whatever happens.
 */
async function joinTerminal(terminal: TerminalConnection): Promise<number> {
  const { stdin, stdout } = process;
  const raw = stdin.isTTY;
  let waitingForDrain = false;
  terminal.onOutput((chunk) => {
    if (stdout.write(chunk) || waitingForDrain) return;
    // The local terminal is slower than the shell: stop reading, and the server pauses the shell.
    waitingForDrain = true;
    terminal.pause();
    stdout.once("drain", () => {
      waitingForDrain = false;
      terminal.resume();
    });
  });
  const onInput = (chunk: Buffer) => terminal.write(chunk);
  const onEnd = () => terminal.write(Buffer.from([0x04]));
  const onResize = () => terminal.resize(stdout.columns, stdout.rows);
  const hangUp = () => terminal.close();
  if (raw) {
    stdin.setRawMode(true);
    // libuv's raw mode keeps output processing (OPOST, ONLCR): the remote pty has already done it,
    // and a "\n" that a full-screen program means as "down one line" would become "\r\n" here.
    // setRawMode(false) restores the terminal as it was, this included.
    spawnSync("stty", ["-opost"], { stdio: ["inherit", "ignore", "ignore"] });
  }
  stdin.on("data", onInput);
  stdin.once("end", onEnd);
  stdout.on("resize", onResize);
  process.on("SIGTERM", hangUp);
  process.on("SIGHUP", hangUp);
  try {
    return await terminal.exited;
  } finally {
    stdin.off("data", onInput);
    stdin.off("end", onEnd);
    stdout.off("resize", onResize);
    process.off("SIGTERM", hangUp);
    process.off("SIGHUP", hangUp);
    if (raw) stdin.setRawMode(false);
    stdin.pause();
  }
}

export function registerBranch(program: Command): void {
  const branch = program.command("branch").description("branches: the unit of work, each with its environment");

  branch
    .command("create <repo> [name]")
    .description("create a branch from --base (default: the repo's default branch) and its environment")
    .option("--task <id>", "link a task (it moves to in_progress); without a name the branch is named after it")
    .option("--base <branch>", "branch to start from")
    .option("--env <backend>", "local, local:<absolute path>, sandbox or none (default: cook.toml's, else local)")
    .option("--no-wait", "return once the checkout exists, without waiting for the setup script")
    .option("--json", "print JSON")
    .action(async (repo: string, name: string | undefined, options: { task?: string; base?: string; env?: string; wait: boolean; json?: boolean }, command: Command) => {
      const client = clientFor(command);
      const created = await client.createBranch({ repo, name, task: options.task, base: options.base, env: options.env });
      let environment = created.environment;
      if (!options.json) {
        printLine(`created branch ${created.branch.name} (${created.branch.id}) in ${repo} from ${created.branch.baseBranch} at ${short(created.branch.baseCommit)}`);
        if (environment) printLine(`environment ${environment.id}: ${environment.backend} at ${environment.path}, PORT ${environment.portBase}`);
      }
      if (environment?.state === "creating" && options.wait) {
        const state = await followSetup(client, repo, created.branch.name, environment.id);
        environment = { ...environment, state };
      }
      if (options.json) return printJson({ branch: created.branch, environment });
      if (environment) printLine(`environment ${environment.state}`);
      if (environment?.state === "failed") process.exitCode = 1;
    });

  branch
    .command("list")
    .description("branches by last activity")
    .option("--repo <repo>", "only this repo")
    .option("--status <status>", "open, merged or abandoned")
    .option("--task <id>", "only branches of this task")
    .option("--json", "print JSON")
    .action(async (options: { repo?: string; status?: string; task?: string; json?: boolean }, command: Command) => {
      const branches = await clientFor(command).listBranches({ repo: options.repo, status: options.status, task: options.task });
      if (options.json) return printJson(branches);
      if (branches.length === 0) return printLine("no branches");
      printTable(
        ["NAME", "REPO", "TASK", "ENVIRONMENT", "STATUS", "HEAD", "AHEAD/BEHIND", "ACTIVITY"],
        branches.map((b) => [b.name, b.repo, b.taskId ?? "-", environmentCell(b.environment), b.status, short(b.head), aheadBehind(b), ago(b.updatedAt)]),
      );
    });

  branch
    .command("show <branch>")
    .description("everything about a branch, with its diff summary against its base (<name>, <repo>/<name> or brn_ id)")
    .option("--repo <repo>", "the repo, when two repos have a branch of this name")
    .option("--json", "print JSON")
    .action(async (ref: string, options: { repo?: string; json?: boolean }, command: Command) => {
      const detail = await clientFor(command).getBranch(ref, options.repo);
      if (options.json) return printJson(detail);
      printDetail(detail);
      if (detail.setupLog) {
        printLine("");
        printLine("setup log:");
        process.stdout.write(terminalSafe(detail.setupLog, { multiline: true }));
      }
    });

  branch
    .command("exec <branch> <command...>")
    .description("run a command in the branch's environment (inside its sandbox, if any) and exit with its exit code; put -- before the command")
    .option("--repo <repo>", "the repo, when two repos have a branch of this name")
    .action(async (ref: string, argv: string[], options: { repo?: string }, command: Command) => {
      const client = clientFor(command);
      const target = await client.getBranch(ref, options.repo);
      const abort = new AbortController();
      process.once("SIGINT", () => abort.abort());
      const code = await client.execInBranch(target.id, argv, { stdout: (chunk) => process.stdout.write(chunk), stderr: (chunk) => process.stderr.write(chunk) }, abort.signal);
      process.exitCode = code;
    });

  branch
    .command("attach <branch>")
    .description("open an interactive shell in the branch's environment (inside its sandbox, if any); leave with exit or Ctrl-D, and cook exits with the shell's exit status")
    .option("--repo <repo>", "the repo, when two repos have a branch of this name")
    .action(async (ref: string, options: { repo?: string }, command: Command) => {
      const size = process.stdout.isTTY ? { cols: process.stdout.columns, rows: process.stdout.rows } : {};
      const terminal = await clientFor(command).attachTerminal(ref, { repo: options.repo, ...size });
      process.exitCode = await joinTerminal(terminal);
    });

  branch
    .command("abandon <branch>")
    .description("end a branch without merging: environment torn down, ref archived under refs/archive/, task back to open")
    .option("--repo <repo>", "the repo, when two repos have a branch of this name")
    .action(async (ref: string, options: { repo?: string }, command: Command) => {
      const client = clientFor(command);
      const target = await client.getBranch(ref, options.repo);
      const ended = await client.abandonBranch(target.id);
      printLine(`abandoned ${ended.repo}/${ended.name}${ended.archiveRef ? `; its commits are kept at ${ended.archiveRef}` : ""}`);
    });

  branch
    .command("adopt <repo> <name>")
    .description("track a git branch that existed before Cook tracked branches (no environment)")
    .option("--task <id>", "link a task")
    .action(async (repo: string, name: string, options: { task?: string }, command: Command) => {
      const adopted = await clientFor(command).adoptBranch({ repo, name, task: options.task });
      printLine(`tracking ${adopted.repo}/${adopted.name} (${adopted.id}), based on ${adopted.baseBranch} at ${short(adopted.baseCommit)}`);
    });

  branch
    .command("gc")
    .description("list environment folders that no branch owns; --yes removes them")
    .option("--yes", "remove them")
    .action(async (options: { yes?: boolean }, command: Command) => {
      const orphans = await clientFor(command).collectGarbage(Boolean(options.yes));
      if (orphans.length === 0) return printLine("no orphaned environment folders");
      for (const orphan of orphans) printLine(`${options.yes ? "removed" : "orphan"}  ${orphan.path}`);
      if (!options.yes) printLine(`${orphans.length} folder(s); run cook branch gc --yes to remove them`);
    });

}
