import { promptWithInstruction, type AgentAdapter } from "./adapter.js";

/**
 * Codex: `codex exec --json --dangerously-bypass-approvals-and-sandbox <prompt>`; resume with
 * `codex exec resume --json … <thread_id> <prompt>`; a review outside Cook's sandbox runs with
 * `--sandbox read-only` instead of the bypass. State, login (auth.json) and config.toml live in
 * CODEX_HOME. It has no system-prompt flag for exec: the instruction leads the prompt.
 */
export const codexAdapter: AgentAdapter = {
  kind: "codex",
  argv(run) {
    const prompt = promptWithInstruction(run);
    const common = [
      "--json",
      // Its own sandbox, read-only, for a review: commands may read the checkout, not change it.
      // Inside Cook's sandbox it cannot make one (no user namespaces there) and every command
      // would fail; that sandbox already keeps its writes to a checkout that is thrown away.
      ...(run.readOnly && !run.sandboxed ? ["--sandbox", "read-only"] : ["--dangerously-bypass-approvals-and-sandbox"]),
      "--skip-git-repo-check",
      // Its shell tool runs `bash -lc` by default, and a login shell resets PATH, losing `cook`.
      "-c",
      "allow_login_shell=false",
      // By default it drops variables named like *TOKEN* from its shell: COOK_TOKEN is how `cook done` authenticates.
      "-c",
      "shell_environment_policy.ignore_default_excludes=true",
      ...(run.model ? ["-m", run.model] : []),
    ];
    return run.resumeId
      ? [run.command, ...run.args, "exec", "resume", ...common, run.resumeId, prompt]
      : [run.command, ...run.args, "exec", ...common, prompt];
  },
  env: (stateDir) => ({ CODEX_HOME: stateDir }),
  loginTarget: (stateDir) => stateDir,
  keyVariables: ["OPENAI_API_KEY", "CODEX_API_KEY"],
  loginFiles: ["auth.json", "config.toml"],
  loginAdvice: "run `codex login` on the server's machine (or set OPENAI_API_KEY in [agents.codex] env)",
  resumable: true,
};
