import type { Command } from "commander";
import { clientFor } from "./context.js";
import { printJson, printLine } from "./output.js";

export function registerStatus(program: Command): void {
  program
    .command("status")
    .description("show whether the server, its store and its event bus are healthy")
    .option("--json", "print JSON")
    .action(async (options: { json?: boolean }, command: Command) => {
      const client = clientFor(command);
      const health = await client.health();
      if (options.json) return printJson(health);
      const pending = health.bus.pending === undefined ? "" : `, ${health.bus.pending} event(s) waiting to publish`;
      for (const line of [
        `server  ${client.serverUrl}  ${health.status}  (cook ${health.version})`,
        `store   ${health.store.kind}  ${health.store.ok ? "ok" : `DOWN: ${health.store.detail}`}`,
        `bus     ${health.bus.kind}  ${health.bus.ok ? health.bus.detail : `DOWN: ${health.bus.detail}`}${pending}`,
      ])
        printLine(line);
    });
}
