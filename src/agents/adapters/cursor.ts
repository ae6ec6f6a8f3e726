import { promptWithInstruction, type AgentAdapter } from "./adapter.js";

/**
 * Cursor's agent CLI: `cursor-agent -p --output-format stream-json --force <prompt>`,
 * `--resume <chat id>` to go on. Its CLI is not on npm and cannot be pointed at a local model
 * server: tests replay recorded streams through a stub (notes/agent-clis.md).
 */
export const cursorAdapter: AgentAdapter = {
  kind: "cursor",
  argv(run) {
    const prompt = promptWithInstruction(run);
    return [
      run.command,
      ...run.args,
      "-p",
      "--output-format",
      "stream-json",
      // Ask mode explores without editing; without --force it runs no command it is not allowed.
      ...(run.readOnly ? ["--mode", "ask"] : ["--force"]),
      ...(run.model ? ["--model", run.model] : []),
      ...(run.resumeId ? ["--resume", run.resumeId] : []),
      prompt,
    ];
  },
  env: (stateDir) => ({ HOME: stateDir }),
  loginTarget: (stateDir) => `${stateDir}/.cursor`,
  keyVariables: ["CURSOR_API_KEY"],
  loginFiles: undefined,
  loginAdvice: "run `cursor-agent login` on the server's machine (or set CURSOR_API_KEY in [agents.cursor] env)",
  resumable: true,
};
