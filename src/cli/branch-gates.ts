import type { Command } from "commander";
import type { BranchGatesInfo, CookClient } from "../client/http-client.js";
import type { GateRun } from "../core/gate.js";
import { encodeToken } from "../events/subjects.js";
import { clientFor } from "./context.js";
import { printJson, printLine, terminalSafe } from "./output.js";

const short = (sha: string | undefined) => sha?.slice(0, 8) ?? "-";
const over = (run: GateRun) => !["queued", "running", "waiting"].includes(run.state);

/** The gate lines of `cook branch show`: the newest run's gates with their states, and whether the branch may merge. */
export function printGates(info: BranchGatesInfo): void {
  const run = info.runs.find((r) => r.reason !== "merge");
  printLine("");
  if (!run) {
    printLine("gates: none have run");
  } else {
    printLine(`gates on ${short(run.head)} (${run.id}, ${run.state}${run.error ? `: ${run.error}` : ""}):`);
    for (const result of run.results) printLine(`  ${result.gate.padEnd(16)} ${result.state.replace("_", " ").padEnd(11)} ${result.summary ?? ""}`.trimEnd());
  }
  printLine(info.mergeable ? `mergeable${info.autoMerge ? " (auto-merge on)" : ""}` : `not mergeable: ${info.reason ?? "unknown"}${info.autoMerge ? " (auto-merge on: it merges once the gates pass)" : ""}`);
  const merge = info.merges[0];
  if (merge) printLine(`last merge: ${merge.id} ${merge.state}${merge.message ? ` — ${merge.message}` : ""}`);
}

/**
 * Prints a run's gate events as they happen (output as it streams, a line per gate state) until the
 * run is over or waits on a human; resolves with the run as it ended.
 */
async function followRun(client: CookClient, repo: string, branch: string, runId: string): Promise<GateRun> {
  const abort = new AbortController();
  let final: GateRun | undefined;
  let checking = Promise.resolve();
  const subject = `cook.gate.${encodeToken(repo)}.${encodeToken(branch)}.>`;
  const check = () => {
    checking = checking.then(async () => {
      const { run } = await client.gateRun(runId);
      if (over(run) || run.state === "waiting") {
        final = run;
        abort.abort();
      }
    });
  };
  await Promise.all([
    client.followEvents({ subject, after: 0 }, (event) => {
      const data = event.data as { run?: string; gate?: string; text?: string; attempt?: number; summary?: string };
      if (data.run !== runId) return;
      const action = event.type.slice("gate.".length);
      if (action === "output" && data.text) return void process.stdout.write(terminalSafe(data.text, { multiline: true }));
      printLine(`── ${data.gate}: ${action}${data.attempt && action === "started" ? ` (attempt ${data.attempt})` : ""}${data.summary ? ` — ${data.summary}` : ""}`);
      if (action !== "started") check();
    }, abort.signal),
    // A run whose every gate was re-used may have ended before the stream began.
    (async () => check())(),
  ]);
  await checking;
  return final ?? (await client.gateRun(runId)).run;
}

/** `cook branch gate|approve|reject|merge`: added to the `branch` command group. */
export function registerGateCommands(branch: Command): void {
  branch
    .command("gate <branch>")
    .description("run the branch's gates again on its head (or one gate); --follow streams their output until they end")
    .option("--repo <repo>", "the repo, when two repos have a branch of this name")
    .option("--gate <name>", "only this gate")
    .option("--follow", "print the gates' output and states until the run ends; exit 1 when it fails")
    .option("--json", "print the run as JSON")
    .action(async (ref: string, options: { repo?: string; gate?: string; follow?: boolean; json?: boolean }, command: Command) => {
      const client = clientFor(command);
      const target = await client.getBranch(ref, options.repo);
      const run = await client.rerunGates(target.id, options.gate);
      if (!options.follow) {
        if (options.json) return printJson(run);
        return printLine(`run ${run.id} on ${short(run.head)}: ${run.results.map((r) => r.gate).join(", ") || "no gates"} (${run.state}${run.error ? `: ${run.error}` : ""})`);
      }
      const ended = await followRun(client, target.repo, target.name, run.id);
      if (options.json) printJson(ended);
      else printLine(`run ${ended.id} ${ended.state}${ended.error ? `: ${ended.error}` : ""}`);
      if (ended.state !== "passed" && ended.state !== "waiting") process.exitCode = 1;
    });

  for (const verdict of ["approve", "reject"] as const) {
    branch
      .command(`${verdict} <branch>`)
      .description(verdict === "approve" ? "approve the branch's current head for its human_approval gate" : "reject the branch's current head (with --comment, the comment goes to its agent when the repo says so)")
      .option("--repo <repo>", "the repo, when two repos have a branch of this name")
      .option("--comment <text>", "what the reviewer says")
      .option("--gate <name>", "the approval gate, when the repo has more than one")
      .action(async (ref: string, options: { repo?: string; comment?: string; gate?: string }, command: Command) => {
        const client = clientFor(command);
        const target = await client.getBranch(ref, options.repo);
        const approval = await client.giveVerdict(target.id, verdict, { comment: options.comment, gate: options.gate });
        printLine(`${verdict === "approve" ? "approved" : "rejected"} ${target.repo}/${target.name} at ${short(approval.head)} for gate '${approval.gate}'`);
      });
  }

  branch
    .command("merge <branch>")
    .description("land the branch on its target once every gate passed on its head (fast-forward when possible, else a merge commit)")
    .option("--repo <repo>", "the repo, when two repos have a branch of this name")
    .option("--strategy <strategy>", "auto, ff-only, merge or squash (default: cook.toml's [merge] strategy, else auto)")
    .option("--auto", "merge as soon as the gates pass on the head (now, if they have)")
    .option("--no-auto", "stop waiting to merge automatically")
    .option("--json", "print the merge as JSON")
    .action(async (ref: string, options: { repo?: string; strategy?: string; auto?: boolean; json?: boolean }, command: Command) => {
      const client = clientFor(command);
      const target = await client.getBranch(ref, options.repo);
      const auto = command.getOptionValueSource("auto") === "cli" ? options.auto : undefined;
      const answer = await client.mergeBranch(target.id, { strategy: options.strategy, auto });
      if (options.json) return printJson(answer);
      if (answer.merge) return printLine(`merged ${target.repo}/${target.name} into ${answer.merge.target}: ${answer.merge.message ?? answer.merge.state}`);
      if (!answer.autoMerge) return printLine(`auto-merge off for ${target.repo}/${target.name}`);
      printLine(`auto-merge on for ${target.repo}/${target.name}: it merges once the gates pass on its head (now: ${answer.waiting ?? "waiting"})`);
    });
}
