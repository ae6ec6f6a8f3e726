import type { Command } from "commander";
import type { StageSummary } from "../autopilot/stages.js";
import type { AutopilotStatus } from "../autopilot/status.js";
import { clientFor } from "./context.js";
import { printJson, printLine, printTable, terminalSafe } from "./output.js";

/** `cook autopilot status` as text: the switch and why, settings, slots, then each list. */
export function printAutopilotStatus(status: AutopilotStatus): void {
  const why = status.source === "switch" ? `switched ${status.enabled ? "on" : "off"} by ${status.changedBy} at ${status.changedAt}` : status.source === "cook.toml" ? "from [autopilot] in cook.toml" : "no [autopilot] in cook.toml and no switch";
  printLine(`autopilot ${status.enabled ? "on" : "off"} for ${status.repo} (${why})`);
  if (status.problem) printLine(terminalSafe(`cannot dispatch: ${status.problem}`));
  const config = status.config;
  printLine(`settings: concurrency ${config.concurrency}, agent ${config.agent ?? "(server default)"}, backend ${config.backend ?? "(cook.toml's, else local)"}, merge ${config.merge}${config.labels.length ? `, labels ${config.labels.join(", ")}` : ""}, serialize_overlaps ${config.serializeOverlaps}`);
  printLine(`slots: ${status.slots.used} of ${status.slots.total} in use`);
  for (const run of status.running) printLine(terminalSafe(`  working  ${run.task} on ${run.branch ?? "(being made)"}${run.awaitsMerge ? " — gates passed: waits for you to merge it (merge is not \"auto\")" : ""}`));
  printLine(`queue: ${status.queue.length} ready task(s)`);
  for (const task of status.queue) printLine(terminalSafe(`  P${task.priority}  ${task.id}  ${task.title}${task.waits ? `  (waits: ${task.waits.reason})` : ""}`));
  if (status.needsYou.length) printLine(`needs you: ${status.needsYou.length}`);
  for (const task of status.needsYou) printLine(terminalSafe(`  P${task.priority}  ${task.id}  ${task.title}${task.reason ? ` — ${task.reason}` : ""}`));
  for (const task of status.skipped) printLine(terminalSafe(`  skipped  ${task.id}: ${task.reason}`));
  for (const task of status.held) printLine(terminalSafe(`  held     ${task.id}: stage ${task.stage} waits for an earlier stage`));
  for (const task of status.waitingOnParent) printLine(terminalSafe(`  held     ${task.id}: ${task.reason}`));
  for (const task of status.unlabelled) printLine(terminalSafe(`  left     ${task.id}: carries none of the labels ${status.config.labels.join(", ")}: for people`));
  for (const task of status.parents) printLine(terminalSafe(`  parent   ${task.id}: collects ${task.openSubTasks} open sub-task${task.openSubTasks === 1 ? "" : "s"}`));
  if (status.automations.problem) printLine(terminalSafe(`automations off: ${status.automations.problem}`));
  else if (status.automations.count) printLine(`automations: ${status.automations.count}`);
  if (status.stages.length) printStages(status.stages);
}

/** One line a stage: its state and summary, and who continued past it. */
export function printStages(stages: readonly StageSummary[]): void {
  printLine("stages:");
  const state = (stage: StageSummary) => (stage.state === "continued" ? `continued by ${stage.continued!.by}` : stage.state === "ended" ? "ended: waits for you (cook stage continue)" : stage.state);
  printTable(["STAGE", "STATE", "SUMMARY"], stages.map((stage) => [stage.name, state(stage), stage.summary]));
}

export function registerAutopilot(program: Command): void {
  const autopilot = program.command("autopilot").description("autopilot: ready tasks become branches with an agent, green branches land (per repo)");

  for (const [name, enabled] of [["on", true], ["off", false]] as const) {
    autopilot
      .command(`${name} <repo>`)
      .description(enabled ? "turn autopilot on for a repo (overrides cook.toml's [autopilot] enabled)" : "turn autopilot off for a repo: no new branches; those working go on")
      .option("--json", "print JSON")
      .action(async (repo: string, options: { json?: boolean }, command: Command) => {
        const status = await clientFor(command).switchAutopilot(repo, enabled);
        if (options.json) return printJson(status);
        printAutopilotStatus(status);
      });
  }

  autopilot
    .command("status <repo>")
    .description("the switch, settings, slots in use, branches working, the queue of ready tasks and what needs you")
    .option("--json", "print JSON")
    .action(async (repo: string, options: { json?: boolean }, command: Command) => {
      const status = await clientFor(command).autopilotStatus(repo);
      if (options.json) return printJson(status);
      printAutopilotStatus(status);
    });
}

export function registerStage(program: Command): void {
  const stage = program.command("stage").description("stages: named groups of tasks (front matter `stage`) that autopilot runs in order, a person continuing between them");

  stage
    .command("list <repo>")
    .description("the repo's stages in order: state, what merged, what failed and why")
    .option("--json", "print JSON")
    .action(async (repo: string, options: { json?: boolean }, command: Command) => {
      const stages = await clientFor(command).stages(repo);
      if (options.json) return printJson(stages);
      if (stages.length === 0) return printLine(`${repo} has no stages: no task names one`);
      printStages(stages);
    });

  stage
    .command("continue <repo> <stage>")
    .description("you have looked at an ended stage's summary: the next stage's tasks may start")
    .option("--json", "print JSON")
    .action(async (repo: string, name: string, options: { json?: boolean }, command: Command) => {
      const stages = await clientFor(command).continueStage(repo, name);
      if (options.json) return printJson(stages);
      printLine(terminalSafe(`continued past stage ${name} of ${repo}`));
      printStages(stages);
    });
}
