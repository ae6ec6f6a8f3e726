import { join } from "node:path";
import { promptWithInstruction, type AgentAdapter } from "./adapter.js";

/**
 * Gemini CLI: `gemini -p <prompt> --output-format stream-json --yolo --skip-trust`, `--resume <id>`
 * to go on. It keeps settings, login and sessions under $GEMINI_CLI_HOME/.gemini (default $HOME), so
 * the session's state folder is its GEMINI_CLI_HOME. Without --skip-trust it exits 55; without
 * --yolo it has no write or shell tools; a review asks for that with `--approval-mode default`.
 */
export const geminiAdapter: AgentAdapter = {
  kind: "gemini",
  argv(run) {
    const prompt = promptWithInstruction(run);
    return [
      run.command,
      ...run.args,
      "-p",
      prompt,
      "--output-format",
      "stream-json",
      // Headless, without yolo, it has no write or shell tools: its read-only mode.
      ...(run.readOnly ? ["--approval-mode", "default"] : ["--yolo"]),
      "--skip-trust",
      ...(run.model ? ["-m", run.model] : []),
      ...(run.resumeId ? ["--resume", run.resumeId] : []),
    ];
  },
  // Without NO_RELAUNCH it starts itself again with a larger heap: one more node process per run.
  env: (stateDir) => ({ GEMINI_CLI_HOME: stateDir, GEMINI_CLI_NO_RELAUNCH: "true" }),
  loginTarget: (stateDir) => join(stateDir, ".gemini"),
  keyVariables: ["GEMINI_API_KEY", "GOOGLE_API_KEY"],
  loginFiles: ["oauth_creds.json", "settings.json"],
  loginAdvice: "run `gemini` once on the server's machine to log in (or set GEMINI_API_KEY in [agents.gemini] env)",
  resumable: true,
};
