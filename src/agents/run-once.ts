import type { AgentEvent } from "../core/agent-event.js";
import type { AgentConfig } from "../config/agent-config.js";
import { backendFor } from "../environments/backends.js";
import type { EnvironmentContext } from "../environments/process-spec.js";
import { runCommand } from "../environments/run-command.js";
import { adapterFor } from "./adapters/index.js";
import { LineSplitter } from "./line-splitter.js";
import { maxEventTextChars, parserFor } from "./parsers/index.js";
import { maskSecrets, secretValues } from "./secrets.js";
import { killSessionProcesses } from "./session-processes.js";
import { checkLogin, checkProgram, prepareStateDir, programFolders, sessionStateDir, sessionTmpDir } from "./state-dir.js";

/** One run of a configured agent that is not a session: asked once, never resumed, nothing stored here. */
export interface OnceRequest {
  agent: AgentConfig;
  /** Where it runs (its checkout, backend, network; the token, if any). The caller makes and removes the checkout. */
  context: EnvironmentContext;
  prompt: string;
  /** The CLI's read-only or plan mode (adapter.ts). */
  readOnly: boolean;
  /**
   * Names the run: its state folder, and COOK_SESSION_ID of every process it starts, by which
   * what outlived it is found and killed at the end.
   */
  id: string;
  /** More variables for the process (COOK_GATE …), over the agent's own `env`. */
  env: Record<string, string>;
  /** The run is killed with everything it started when this aborts. */
  signal: AbortSignal;
  /** Each event as the CLI's parser gives it, masked of secrets, and each stderr line as a raw event. */
  onEvent(event: AgentEvent): void;
}

export interface OnceResult {
  /** undefined when it could not be started. */
  exitCode: number | undefined;
  /** Why the process could not start at all. */
  startError: string | undefined;
  /** The last error the CLI reported, or its last stderr line. */
  lastError: string | undefined;
}

/**
 * Runs a configured agent once, non-interactively, the way a session's run is started (same
 * adapter, `[agents.<name>]` command, args, model, env and login, same parser, secrets masked,
 * stdin closed, through the environment's backend), with a state folder of its own under the
 * environment's private home. Resolves when the process has exited and everything it left is
 * killed. Throws unavailable before anything starts when the agent has no login or its program is
 * missing or not executable.
 */
export async function runAgentOnce(request: OnceRequest): Promise<OnceResult> {
  const { agent, context } = request;
  const adapter = adapterFor(agent.kind);
  const backend = backendFor(context.environment.backend);
  const stateDir = sessionStateDir(context.environment, request.id);
  checkLogin(adapter, agent);
  const argv = adapter.argv({ command: agent.command, args: agent.args, model: agent.model, prompt: request.prompt, instruction: undefined, resumeId: undefined, stateDir, readOnly: request.readOnly, sandboxed: context.environment.backend === "sandbox" });
  const env = { ...adapter.env(stateDir), TMPDIR: sessionTmpDir(stateDir), ...agent.env, ...request.env, COOK_SESSION_ID: request.id, COOK_PROMPT: request.prompt, COOK_RESUME: "" };
  const path = backend.wrap(context, ["true"], { env }).env.PATH ?? "";
  // A command agent's program is the first word of its command line, when that is a path.
  const program = adapter.kind === "command" ? (/^\/\S+/.exec(agent.command)?.[0] ?? undefined) : checkProgram(agent, argv[0]!, path);
  prepareStateDir(stateDir, adapter, agent);
  const spec = backend.wrap(context, argv, { env, readOnly: program ? programFolders(program) : [] });
  const secrets = secretValues(agent, adapter, context.token ? [context.token] : []);
  const parser = parserFor(agent.kind);
  const result: OnceResult = { exitCode: undefined, startError: undefined, lastError: undefined };
  let lastStderr: string | undefined;

  const take = (event: AgentEvent) => {
    if (event.kind === "error") result.lastError = event.message;
    if (event.kind === "turn_completed" && event.isError && event.result) result.lastError = event.result;
    request.onEvent(event);
  };
  const stdout = new LineSplitter((text, truncated) => {
    const masked = maskSecrets(text, secrets);
    if (truncated) take({ kind: "raw", stream: "stdout", text: `${masked.slice(0, maxEventTextChars)} … [line cut]` });
    else for (const event of parser.line(masked)) take(event);
  });
  const stderr = new LineSplitter((text, truncated) => {
    if (text.trim() === "") return;
    const masked = maskSecrets(text, secrets).slice(0, maxEventTextChars);
    lastStderr = masked;
    take({ kind: "raw", stream: "stderr", text: truncated ? `${masked} … [line cut]` : masked });
  });
  try {
    result.exitCode = await runCommand(spec, { stdout: (chunk) => stdout.push(chunk), stderr: (chunk) => stderr.push(chunk) }, request.signal);
  } catch (err) {
    result.startError = (err as Error).message;
  } finally {
    // What left the run's process group (its own session, a daemon) goes with the run too.
    killSessionProcesses(request.id);
  }
  stdout.end();
  stderr.end();
  for (const event of parser.end()) take(event);
  result.lastError ??= lastStderr;
  return result;
}
