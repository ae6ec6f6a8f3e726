import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import type { CookClient } from "../client/http-client.js";
import type { Plan } from "../db/plan-store.js";
import { clientFor } from "./context.js";
import { printJson, printLine, terminalSafe } from "./output.js";

/** A plan's drafts as lines: priority, id, title, what each waits for. */
function printDrafts(plan: Plan): void {
  for (const draft of plan.drafts) {
    const accepted = plan.accepted.includes(draft.id) ? "  (accepted)" : "";
    printLine(terminalSafe(`  P${draft.priority}  ${draft.id}  ${draft.title}${draft.parent ? `  (part of ${draft.parent})` : ""}${draft.dependsOn.length ? `  (after ${draft.dependsOn.join(", ")})` : ""}${draft.stage ? `  [stage ${draft.stage}]` : ""}${accepted}`));
  }
}

/** Writes each draft as a task file (what `cook task import` reads) into `dir`; returns the folder. */
async function writeDrafts(plan: Plan, dir: string): Promise<string> {
  // Loaded here: the YAML library is a large part of every other command's start-up otherwise.
  const { serializeTask } = await import("../core/task-document.js");
  const folder = resolve(dir);
  mkdirSync(folder, { recursive: true });
  for (const draft of plan.drafts) {
    const extra: Record<string, unknown> = { plan: plan.id, ...(draft.stage ? { stage: draft.stage } : {}) };
    const text = serializeTask({ id: draft.id, title: draft.title, priority: draft.priority, status: "open", repo: plan.repo, dependsOn: draft.dependsOn, ...(draft.parent ? { parent: draft.parent } : {}), body: draft.body, createdAt: plan.updatedAt, updatedAt: plan.updatedAt, extra, extraYaml: {} });
    writeFileSync(join(folder, `${draft.id}.md`), text);
  }
  return folder;
}

/** Polls the plan until its planner has answered. */
async function waitForPlan(client: CookClient, id: string): Promise<Plan> {
  for (;;) {
    const plan = await client.getPlan(id);
    if (plan.state !== "planning") return plan;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** The planner's answer as it was written: lines kept, control characters shown as escapes. */
function printAnswer(answer: string): void {
  process.stdout.write(`${terminalSafe(answer, { multiline: true })}${answer.endsWith("\n") ? "" : "\n"}`);
}

/**
 * A plan as `cook plan` and `cook plan show` print it. A failed plan: `cook plan` (`failedIsError`)
 * says why on stderr as `cook: …` and exits 1; `cook plan show` shows it, which worked, so exits 0.
 */
async function printPlan(plan: Plan, options: { out?: string; showAnswer?: boolean; failedIsError?: boolean }): Promise<void> {
  printLine(terminalSafe(`plan ${plan.id} for ${plan.repo}: ${plan.state}${plan.attempts > 1 ? ` (after ${plan.attempts} answers)` : ""}`));
  printLine(terminalSafe(`goal: ${plan.goal}`));
  if (plan.state === "failed") {
    if (options.showAnswer && plan.answer) printAnswer(plan.answer);
    else if (plan.answer) printLine(`the planner's answer is kept: cook plan show ${plan.id} --answer`);
    else printLine("the planner gave no answer");
    if (options.failedIsError) {
      printLine(`cook: plan ${plan.id} failed: ${plan.error ?? "unknown"}`, process.stderr);
      process.exitCode = 1;
    } else printLine(`failed: ${plan.error ?? "unknown"}`);
    return;
  }
  if (plan.state === "planning") {
    printLine("the planner is still working; look again with cook plan show " + plan.id);
    return;
  }
  printDrafts(plan);
  if (options.out) printLine(`drafts written to ${await writeDrafts(plan, options.out)}/ (edit them and cook task import the folder, or accept them as they are)`);
  if (plan.state === "drafted") printLine(`accept all with: cook plan accept ${plan.id}   or some: cook plan accept ${plan.id} ID…`);
  if (options.showAnswer && plan.answer) printAnswer(plan.answer);
}

export function registerPlan(program: Command): void {
  const plan = program
    .command("plan")
    .description('break a goal into task drafts with an agent (read-only, on the default branch): cook plan REPO "GOAL"; accept them with cook plan accept')
    .argument("[repo]", "the repo to plan for")
    .argument("[goal...]", "what you want done")
    .option("--agent <name>", "the agent that plans (default: the server's default agent)")
    .option("--out <dir>", "write the drafts as task files into this folder (default: plan-<id>)")
    .option("--no-wait", "return once the planner has started")
    .option("--json", "print JSON")
    .action(async (repo: string | undefined, goal: string[], options: { agent?: string; out?: string; wait: boolean; json?: boolean }, command: Command) => {
      if (!repo || goal.length === 0) {
        command.help({ error: true });
        return;
      }
      const client = clientFor(command);
      const started = await client.startPlan(repo, goal.join(" "), options.agent);
      if (!options.wait) return options.json ? printJson(started) : printLine(`plan ${started.id} started; follow it with cook plan show ${started.id}`);
      if (!options.json) printLine(`plan ${started.id}: ${started.agent} is planning…`);
      const done = await waitForPlan(client, started.id);
      if (options.json) {
        if (done.state === "failed") process.exitCode = 1;
        return printJson(done);
      }
      await printPlan(done, { out: done.state === "drafted" ? (options.out ?? `plan-${done.id}`) : undefined, failedIsError: true });
    });

  plan
    .command("show <id>")
    .description("a plan: its state, drafts, what was accepted; --answer prints the planner's raw answer")
    .option("--answer", "print the planner's answer as it was")
    .option("--out <dir>", "write the drafts as task files into this folder")
    .option("--json", "print JSON")
    .action(async (id: string, options: { answer?: boolean; out?: string; json?: boolean }, command: Command) => {
      const found = await clientFor(command).getPlan(id);
      // `plan` has a --json of its own, which commander gives the word to first.
      if (command.optsWithGlobals().json) return printJson(found);
      await printPlan(found, { out: options.out, showAnswer: options.answer });
    });

  plan
    .command("accept <id> [tasks...]")
    .description("the drafts become tasks: all of them (not yet accepted), or the ids named, each with the drafts it depends on or is part of named too or accepted before; more may be accepted later")
    .option("--json", "print JSON")
    .action(async (id: string, tasks: string[], _options: { json?: boolean }, command: Command) => {
      const accepted = await clientFor(command).acceptPlan(id, tasks);
      if (command.optsWithGlobals().json) return printJson(accepted);
      printLine(`created ${accepted.tasks.length} task(s) from plan ${accepted.plan.id}:`);
      for (const task of accepted.tasks) printLine(terminalSafe(`  ${task.id}  ${task.title}`));
    });
}
