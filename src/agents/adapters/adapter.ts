import type { AgentKind } from "../../core/agent-event.js";

/** One run of an agent CLI, as Cook asks for it. */
export interface RunRequest {
  /** The configured program (`[agents.<name>] command`); for `command` agents a shell command line. */
  command: string;
  /** `[agents.<name>] args`: put right after the program. */
  args: readonly string[];
  model: string | undefined;
  prompt: string;
  /** Cook's fixed instruction (branch, commit, `cook done`); given on the first run only, the way the CLI takes a system prompt. */
  instruction: string | undefined;
  /** The CLI's own session id to resume; undefined for a new session. */
  resumeId: string | undefined;
  /** The session's private config folder (absolute; made and seeded by the runner). */
  stateDir: string;
  /**
   * A review, not work: the CLI's own read-only or plan mode where it has one (its write and edit
   * tools refused or removed). A `command` agent has none; its checkout is thrown away anyway.
   */
  readOnly?: boolean;
  /** Cook runs it under its own sandbox (the sandbox backend), inside which a CLI's own sandbox cannot be built. */
  sandboxed?: boolean;
}

/**
 * What Cook knows about driving one agent CLI unattended (notes/agent-clis.md): the command line of
 * a new run and of a resume, the variables that give each session its own state folder, where the
 * user's login is copied to, and what to tell a user whose login is missing.
 */
export interface AgentAdapter {
  readonly kind: AgentKind;
  /** argv of the run (argv[0] the program). */
  argv(run: RunRequest): string[];
  /** Variables that point the CLI at the session's state folder and keep it quiet (no updates, telemetry). */
  env(stateDir: string): Record<string, string>;
  /** Where inside the state folder the user's login folder is copied, or undefined when there is none. */
  loginTarget(stateDir: string): string | undefined;
  /** Variables any one of which is a login (API keys); the login folder is the other way. */
  readonly keyVariables: readonly string[];
  /** Files of the login folder any one of which is a login; undefined: any content counts. */
  readonly loginFiles: readonly string[] | undefined;
  /** One line of advice for a user with no login: "run `claude login` (or set ANTHROPIC_API_KEY)". */
  readonly loginAdvice: string;
  /** Whether the CLI has sessions of its own to resume (a `command` agent has none). */
  readonly resumable: boolean;
}

/** The prompt of a CLI that takes no system prompt: Cook's instruction (first run only) ahead of it. */
export function promptWithInstruction(run: Pick<RunRequest, "prompt" | "instruction">): string {
  return run.instruction ? `${run.instruction}\n\n${run.prompt}` : run.prompt;
}
