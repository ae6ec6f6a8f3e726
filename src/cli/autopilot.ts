import type { Command } from "commander";
import type { AutopilotStatus } from "../autopilot/status.js";
import { clientFor } from "./context.js";
import { printJson, printLine, terminalSafe } from "./output.js";

/** `cook autopilot status` as text: the switch and why, settings, slots, then each list. */
export function printAutopilotStatus(status: AutopilotStatus): void {
  const why = status.source === "switch" ? `switched ${status.enabled ? "on" : "off"} by ${status.changedBy} at ${status.changedAt}` : status.source === "cook.toml" ? "from [autopilot] in cook.toml" : "no [autopilot] in cook.toml and no switch";
  printLine(`autopilot ${status.enabled ? "on" : "off"} for ${status.repo} (${why})`);
  if (status.problem) printLine(terminalSafe(`cannot dispatch: ${status.problem}`));
  const config = status.config;
  printLine(`settings: concurrency ${config.concurrency}, agent ${config.agent ?? "(server default)"}, backend ${config.backend ?? "(cook.toml's, else local)"}, merge ${config.merge}${config.labels.length ? `, labels ${config.labels.join(", ")}` : ""}`);
  printLine(`slots: ${status.slots.used} of ${status.slots.total} in use`);
  for (const run of status.running) printLine(terminalSafe(`  working  ${run.task} on ${run.branch ?? "(being made)"}`));
  printLine(`queue: ${status.queue.length} ready task(s)`);
  for (const task of status.queue) printLine(terminalSafe(`  P${task.priority}  ${task.id}  ${task.title}`));
  if (status.needsYou.length) printLine(`needs you: ${status.needsYou.length}`);
  for (const task of status.needsYou) printLine(terminalSafe(`  P${task.priority}  ${task.id}  ${task.title}`));
  for (const task of status.skipped) printLine(terminalSafe(`  skipped  ${task.id}: ${task.reason}`));
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
