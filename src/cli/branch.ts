import { spawnSync } from "node:child_process";
import type { Command } from "commander";
import type { BranchDetailInfo, BranchInfo, CookClient } from "../client/http-client.js";
import type { TerminalConnection } from "../client/terminal-client.js";
import type { Environment } from "../core/branch.js";
import { encodeToken } from "../events/subjects.js";
import { printGates, registerGateCommands } from "./branch-gates.js";
import { clientFor } from "./context.js";
import { CookError } from "../core/errors.js";
import { formatAgentEventLine, printJson, printLine, printTable, terminalSafe } from "./output.js";

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

/** The highest seq a session has so far. */
async function lastSeq(client: CookClient, sessionId: string): Promise<number> {
  let after = 0;
  for (;;) {
    const events = await client.sessionEvents(sessionId, after, 10_000);
    if (events.length === 0) return after;
    after = events.at(-1)!.seq;
  }
}

/**
 * Prints a session's events after `after`; with `follow`, keeps reading until the session's run
 * has ended (it is no longer `running`) and its last events are printed. Sets exit code 1 when the
 * session ended failed.
 */
async function followSession(client: CookClient, sessionId: string, after: number, options: { follow: boolean; json: boolean } = { follow: true, json: false }): Promise<void> {
  for (;;) {
    const events = await client.sessionEvents(sessionId, after);
    for (const event of events) printLine(options.json ? JSON.stringify(event) : formatAgentEventLine(event));
    if (events.length > 0) after = events.at(-1)!.seq;
    if (events.length === 1000) continue;
    if (!options.follow) return;
    const session = await client.getSession(sessionId);
    if (session.status !== "running") {
      const rest = await client.sessionEvents(sessionId, after);
      for (const event of rest) printLine(options.json ? JSON.stringify(event) : formatAgentEventLine(event));
      if (!options.json) printLine(terminalSafe(`session ${session.id} ${session.status}${session.reason ? `: ${session.reason}` : ""}`));
      if (session.status === "failed") process.exitCode = 1;
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
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
  // Padded, not tab-separated: printLine shows a tab as \t, the escape it gives any control character.
  const stats = branch.diff.files.map((file) => (file.added === undefined ? "bin" : `+${file.added} -${file.deleted}`));
  const width = Math.max(0, ...stats.map((stat) => stat.length));
  branch.diff.files.forEach((file, i) => printLine(`  ${stats[i]!.padEnd(width)}  ${file.path}`));
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
    .option("--agent <name>", "start this agent in the environment (claude, codex, gemini, opencode, cursor, or any configured one)")
    .option("--prompt <text>", "what the agent is asked to do (with --task, default: work on TASK.md); names the branch when there is no name or task")
    .option("--no-wait", "return once the checkout exists, without waiting for the setup script")
    .option("--json", "print JSON")
    .action(async (repo: string, name: string | undefined, options: { task?: string; base?: string; env?: string; agent?: string; prompt?: string; wait: boolean; json?: boolean }, command: Command) => {
      const client = clientFor(command);
      const created = await client.createBranch({ repo, name, task: options.task, base: options.base, env: options.env, agent: options.agent, prompt: options.prompt });
      let environment = created.environment;
      if (!options.json) {
        // A sub-task's branch starts from its parent task's, made first (up the chain) when missing.
        for (const parent of [...(created.madeParents ?? [])].reverse()) printLine(`created branch ${parent.name} (${parent.id}) for parent task ${parent.taskId ?? "-"}, from ${parent.baseBranch} at ${short(parent.baseCommit)}, without an environment`);
        printLine(`created branch ${created.branch.name} (${created.branch.id}) in ${repo} from ${created.branch.baseBranch} at ${short(created.branch.baseCommit)}`);
        if (environment) printLine(`environment ${environment.id}: ${environment.backend} at ${environment.path}, PORT ${environment.portBase}`);
      }
      if (environment?.state === "creating" && options.wait) {
        const state = await followSetup(client, repo, created.branch.name, environment.id);
        environment = { ...environment, state };
      }
      if (options.json) return printJson({ branch: created.branch, environment, session: created.session, madeParents: created.madeParents ?? [] });
      if (environment) printLine(`environment ${environment.state}`);
      if (environment?.state === "failed") process.exitCode = 1;
      if (created.session) printLine(`agent ${created.session.agent} started: session ${created.session.id} (follow it with cook branch log ${created.branch.name} --follow)`);
    });

  branch
    .command("prompt <branch> <prompt...>")
    .description("send a follow-up (or a human's answer) to the branch's agent session; it resumes the same session")
    .option("--repo <repo>", "the repo, when two repos have a branch of this name")
    .option("--agent <name>", "for a branch with no session yet: the agent to start")
    .option("--follow", "print the session's events until the run ends")
    .action(async (ref: string, words: string[], options: { repo?: string; agent?: string; follow?: boolean }, command: Command) => {
      const client = clientFor(command);
      const target = await client.getBranch(ref, options.repo);
      const before = (await client.branchSessions(target.id)).at(-1);
      const seen = before && options.follow ? await lastSeq(client, before.id) : 0;
      const session = await client.promptBranch(target.id, words.join(" "), options.agent);
      printLine(`session ${session.id} (${session.agent}) ${session.runs > 1 ? `resumed: run ${session.runs}` : "started"}`);
      if (options.follow) await followSession(client, session.id, before?.id === session.id ? seen : 0);
    });

  branch
    .command("interrupt <branch>")
    .description("stop the branch's running agent (its whole process tree); the session can be resumed with cook branch prompt")
    .option("--repo <repo>", "the repo, when two repos have a branch of this name")
    .action(async (ref: string, options: { repo?: string }, command: Command) => {
      const client = clientFor(command);
      const target = await client.getBranch(ref, options.repo);
      const session = await client.interruptBranch(target.id);
      printLine(terminalSafe(`session ${session.id} is ${session.status}${session.reason ? `: ${session.reason}` : ""}`));
    });

  branch
    .command("log <branch>")
    .description("the events of the branch's latest agent session (or --session), in order")
    .option("--repo <repo>", "the repo, when two repos have a branch of this name")
    .option("--session <id>", "another session of the branch")
    .option("--follow", "keep printing until the run ends")
    .option("--json", "print the events as JSON lines")
    .action(async (ref: string, options: { repo?: string; session?: string; follow?: boolean; json?: boolean }, command: Command) => {
      const client = clientFor(command);
      const sessions = await client.branchSessions(ref, options.repo);
      const session = options.session ? sessions.find((s) => s.id === options.session) : sessions.at(-1);
      if (!session) throw new CookError(options.session ? "not_found" : "conflict", options.session ? `branch ${ref} has no session '${options.session}'` : `branch ${ref} has no agent session`);
      await followSession(client, session.id, 0, { follow: options.follow ?? false, json: options.json ?? false });
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
      const sessions = await clientFor(command).branchSessions(detail.id);
      const gates = await clientFor(command).branchGates(detail.id);
      if (options.json) return printJson({ ...detail, sessions, gates });
      printDetail(detail);
      printGates(gates);
      if (sessions.length > 0) {
        printLine("");
        printLine("agent sessions:");
        for (const s of sessions) {
          const cost = s.usage.costUsd > 0 ? `, $${s.usage.costUsd.toFixed(2)}` : "";
          printLine(terminalSafe(`  ${s.id} ${s.agent} ${s.status}, ${s.runs} run(s), ${s.usage.inputTokens + s.usage.outputTokens} tokens${cost}, ${Math.round(s.durationMs / 1000)}s${s.reason ? ` — ${s.reason}` : ""}`));
        }
      }
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
    .command("conflicts <repo>")
    .description("predict conflicts between the repo's open branches: the files two of them both change, and whether a trial merge of the two conflicts")
    .option("--json", "print JSON")
    .action(async (repo: string, options: { json?: boolean }, command: Command) => {
      const predictions = await clientFor(command).predictConflicts(repo);
      if (options.json) return printJson(predictions);
      if (predictions.length === 0) return printLine("no two open branches change the same file");
      for (const p of predictions) {
        const verdict = p.conflicts === undefined ? "not tried" : p.conflicts.length ? `conflict in ${p.conflicts.join(", ")}` : "merge cleanly";
        printLine(terminalSafe(`${p.a.name} and ${p.b.name}: both change ${p.files.join(", ")}; ${verdict}`));
      }
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

  registerGateCommands(branch);
}
