import type { AgentAdapter } from "./adapter.js";

/**
 * Any command as an agent: its command line run by `sh -c` with the prompt added as its last
 * argument (and in COOK_PROMPT). Each stdout line becomes a message. It has no session of its own:
 * a follow-up runs the command again with the new prompt (COOK_RESUME=1).
 */
export const commandAdapter: AgentAdapter = {
  kind: "command",
  argv: (run) => ["sh", "-c", `${[run.command, ...run.args.map(shellQuote)].join(" ")} "$@"`, "cook-agent", run.prompt],
  env: () => ({}),
  loginTarget: () => undefined,
  keyVariables: [],
  loginFiles: undefined,
  loginAdvice: "",
  resumable: false,
};

function shellQuote(arg: string): string {
  return `'${arg.replaceAll("'", "'\\''")}'`;
}
