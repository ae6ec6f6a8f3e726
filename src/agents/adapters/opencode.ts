import { join } from "node:path";
import { promptWithInstruction, type AgentAdapter } from "./adapter.js";

/**
 * OpenCode: `opencode run --format json <prompt words>`, `--session <ses_…>` to go on. Its login
 * (auth.json) and sessions live under XDG_DATA_HOME/opencode, which is the session's; its config
 * (XDG_CONFIG_HOME/opencode, or OPENCODE_CONFIG) stays the user's. The prompt is passed as
 * separate words, after `--`: one argument holding spaces reaches the model wrapped in quotes
 * (notes/agent-clis.md).
 */
export const opencodeAdapter: AgentAdapter = {
  kind: "opencode",
  argv(run) {
    const prompt = promptWithInstruction(run);
    return [
      run.command,
      ...run.args,
      "run",
      "--format",
      "json",
      ...(run.model ? ["--model", run.model] : []),
      // A review runs as its built-in `plan` agent, which is refused edits (not shell commands).
      ...(run.readOnly ? ["--agent", "plan"] : []),
      ...(run.resumeId ? ["--session", run.resumeId] : []),
      // After "--", a word of the prompt that starts with "-" (a diff's "---") is not taken for an option.
      "--",
      ...prompt.split(" ").filter((word) => word !== ""),
    ];
  },
  env: (stateDir) => ({
    XDG_DATA_HOME: join(stateDir, "data"),
    XDG_STATE_HOME: join(stateDir, "state"),
    XDG_CACHE_HOME: join(stateDir, "cache"),
    OPENCODE_DISABLE_AUTOUPDATE: "1",
    OPENCODE_DISABLE_MODELS_FETCH: "1",
    OPENCODE_DISABLE_LSP_DOWNLOAD: "1",
  }),
  loginTarget: (stateDir) => join(stateDir, "data", "opencode"),
  keyVariables: ["OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENCODE_CONFIG"],
  loginFiles: ["auth.json"],
  loginAdvice: "run `opencode auth login` on the server's machine (or set a provider's API key in [agents.opencode] env)",
  resumable: true,
};
