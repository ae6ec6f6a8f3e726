#!/usr/bin/env node
import { Command, CommanderError } from "commander";
import { packageVersion } from "../config/package-root.js";
import { UnreachableError } from "../client/http-client.js";
import { CookError } from "../core/errors.js";
import { registerAgent } from "./agent.js";
import { registerAgentReports } from "./agent-report.js";
import { registerAutopilot, registerStage } from "./autopilot.js";
import { registerPlan } from "./plan.js";
import { registerBranch } from "./branch.js";
import { registerEvents } from "./events.js";
import { printLine } from "./output.js";
import { registerRepo } from "./repo.js";
import { registerServe } from "./serve.js";
import { registerStatus } from "./status.js";
import { registerTask } from "./task.js";
import { registerToken } from "./token.js";

// A reader that has had enough (`cook events | head -1`) closes the pipe: stop quietly, as cat does,
// instead of failing on the next write with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw err;
  });
}

// Exit codes: 0 ok, 1 user error, 2 usage error, 3 server unreachable, 70 internal error.
const program = new Command("cook")
  .description("Cook — a self-hosted software factory for agent-driven development")
  .version(packageVersion(), "-V, --version", "print the version")
  .option("--server <url>", "the cook server to talk to (default $COOK_SERVER, ~/.config/cook/config.toml, http://127.0.0.1:7420)")
  .showHelpAfterError()
  .exitOverride();

registerServe(program);
registerStatus(program);
registerRepo(program);
registerTask(program);
registerBranch(program);
registerAutopilot(program);
registerStage(program);
registerPlan(program);
registerAgentReports(program);
registerEvents(program);
registerToken(program);
registerAgent(program);

for (const command of program.commands) {
  command.exitOverride().showHelpAfterError();
  for (const sub of command.commands) sub.exitOverride().showHelpAfterError();
}

program.parseAsync().catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // Help and --version end with exit code 0; anything else commander refused is a usage error.
    process.exitCode = err.exitCode === 0 ? 0 : 2;
    return;
  }
  if (err instanceof CookError && err.code !== "internal") {
    // Messages come from the server too: one line, escaped like everything else it sends.
    printLine(`cook: ${err.message}`, process.stderr);
    process.exitCode = err instanceof UnreachableError ? 3 : 1;
    return;
  }
  printLine(`cook: internal error: ${err instanceof Error ? err.message : String(err)}`, process.stderr);
  process.exitCode = 70;
});
