import type { AgentAdapter } from "./adapter.js";

/**
 * Claude Code: `claude -p <prompt> --output-format stream-json --verbose` (stream-json needs
 * --verbose), `--resume <session_id>` to go on; a review runs with `--permission-mode dontAsk`
 * instead of skipping permissions. Root may only skip permissions with IS_SANDBOX=1. Its state
 * lives in CLAUDE_CONFIG_DIR (credentials in .credentials.json).
 */
export const claudeAdapter: AgentAdapter = {
  kind: "claude",
  argv(run) {
    return [
      run.command,
      ...run.args,
      "-p",
      run.prompt,
      "--output-format",
      "stream-json",
      "--verbose",
      // dontAsk refuses whatever would need a permission (writes, edits, commands that are not
      // read-only) and lets it read, search and run `git log`; plan mode would instead steer it
      // into writing a plan file and ending with ExitPlanMode.
      ...(run.readOnly ? ["--permission-mode", "dontAsk"] : ["--dangerously-skip-permissions"]),
      ...(run.model ? ["--model", run.model] : []),
      ...(run.instruction ? ["--append-system-prompt", run.instruction] : []),
      ...(run.resumeId ? ["--resume", run.resumeId] : []),
    ];
  },
  env: (stateDir) => ({
    CLAUDE_CONFIG_DIR: stateDir,
    IS_SANDBOX: "1",
    DISABLE_AUTOUPDATER: "1",
    DISABLE_TELEMETRY: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
  }),
  loginTarget: (stateDir) => stateDir,
  keyVariables: ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN"],
  loginFiles: [".credentials.json"],
  loginAdvice: "run `claude login` on the server's machine (or set ANTHROPIC_API_KEY in [agents.claude] env)",
  resumable: true,
};
