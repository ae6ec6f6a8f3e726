import { homedir } from "node:os";
import { join } from "node:path";
import { agentKinds, isAgentKind, type AgentKind } from "../core/agent-event.js";
import { checkAgainstRules, sectionOf, type SectionRules } from "./schema.js";
import type { TomlTable } from "./toml-file.js";

/** One configured agent: `[agents.<name>]` in the server config. */
export interface AgentConfig {
  readonly name: string;
  /** Which CLI it is (its adapter and parser); defaults to the name. */
  readonly kind: AgentKind;
  /** The program (a name on PATH or a path); for `command` agents, a shell command line. */
  readonly command: string;
  /** Extra arguments put before Cook's own. */
  readonly args: readonly string[];
  readonly model: string | undefined;
  /** Extra environment for the CLI (API keys, base URLs). */
  readonly env: Readonly<Record<string, string>>;
  /** Names of variables whose values are masked wherever the agent's output is kept or shown; API-key-like names always are. */
  readonly secrets: readonly string[];
  /**
   * The login folder the per-session config folder is seeded from (the CLI's own: ~/.claude,
   * ~/.codex, …). Set here, the whole folder is copied; by default only its top-level files (the
   * login and settings, not the user's history).
   */
  readonly home: string | undefined;
  readonly homeIsDefault: boolean;
  /** A run that ends without `cook done` or `cook ask-for-help`: push its commits as `done` would, or wait for a human. */
  readonly onExit: "done" | "wait";
  /** Agents tried, in order, when this one hits a rate limit or quota it cannot wait out. */
  readonly fallback: readonly string[];
}

/** Per model, US dollars per million tokens: what costs a session whose CLI does not report its cost. */
export interface ModelPrice {
  readonly input: number;
  readonly output: number;
  readonly cacheRead: number;
  readonly cacheWrite: number;
}

/** Limits on agent work (`[budgets]`). Per run: enforced while it runs. Per task: summed over its sessions. */
export interface AgentBudgets {
  /** A run is stopped after this long (minutes; default 30). */
  readonly runMinutes: number;
  /** A run with no output for this long is nudged, then stopped (minutes; default 10). */
  readonly idleMinutes: number;
  /** The same tool call with the same input this many times in a row is a loop (default 5). */
  readonly repeatedToolCalls: number;
  /** The same error this many times on one task sends it to a human (default 3). */
  readonly sameErrorAttempts: number;
  readonly taskTokens: number | undefined;
  readonly taskTurns: number | undefined;
  readonly taskMinutes: number | undefined;
  readonly taskCostUsd: number | undefined;
  /** After `cook ask-for-help`, how long the run may take to end by itself before it is interrupted (seconds; default 30). */
  readonly helpGraceSeconds: number;
}

export interface AgentSettings {
  readonly agents: Readonly<Record<string, AgentConfig>>;
  readonly prices: Readonly<Record<string, ModelPrice>>;
  readonly budgets: AgentBudgets;
}

const defaultPrograms: Record<AgentKind, string | undefined> = {
  claude: "claude",
  codex: "codex",
  gemini: "gemini",
  opencode: "opencode",
  cursor: "cursor-agent",
  command: undefined,
};

/** Each CLI's own login folder in the user's home. */
export function defaultAgentHome(kind: AgentKind, home = homedir()): string | undefined {
  switch (kind) {
    case "claude":
      return join(home, ".claude");
    case "codex":
      return join(home, ".codex");
    case "gemini":
      return join(home, ".gemini");
    case "opencode":
      return join(home, ".local", "share", "opencode");
    case "cursor":
      return join(home, ".cursor");
    case "command":
      return undefined;
  }
}

const envName = /^[A-Za-z_][A-Za-z0-9_]*$/;
const agentName = /^[a-z][a-z0-9_-]{0,39}$/;

const agentRules: Record<string, import("./schema.js").KeyRule> = {
  kind: { type: "string", check: (v: string) => (isAgentKind(v) ? undefined : `one of ${agentKinds.join(", ")}`) },
  command: { type: "string", check: (v: string) => (v.trim() ? undefined : "a program or command line") },
  args: { type: "strings" },
  model: { type: "string", check: (v: string) => (v.trim() ? undefined : "a model name") },
  env: { type: "table", check: (v: TomlTable) => (Object.entries(v).every(([k, value]) => envName.test(k) && typeof value === "string") ? undefined : "a table of NAME = \"value\" strings") },
  secrets: { type: "strings", check: (v: string[]) => (v.every((name) => envName.test(name)) ? undefined : "variable names") },
  home: { type: "string", check: (v: string) => (v.startsWith("/") ? undefined : "an absolute folder path") },
  on_exit: { type: "string", check: (v: string) => (v === "done" || v === "wait" ? undefined : "done or wait") },
  fallback: { type: "strings" },
};

const positive = (v: number) => (v > 0 ? undefined : "a number above 0");
const budgetRules: Record<string, import("./schema.js").KeyRule> = {
  run_minutes: { type: "number", check: positive },
  idle_minutes: { type: "number", check: positive },
  repeated_tool_calls: { type: "integer", check: (v: number) => (v >= 2 ? undefined : "an integer of 2 or more") },
  same_error_attempts: { type: "integer", check: (v: number) => (v >= 1 ? undefined : "an integer of 1 or more") },
  task_tokens: { type: "integer", check: positive },
  task_turns: { type: "integer", check: positive },
  task_minutes: { type: "number", check: positive },
  task_cost_usd: { type: "number", check: positive },
  help_grace_seconds: { type: "number", check: (v: number) => (v >= 0 ? undefined : "a number of 0 or more") },
};
const priceRules: Record<string, import("./schema.js").KeyRule> = {
  input: { type: "number", check: (v: number) => (v >= 0 ? undefined : "dollars per million tokens, 0 or more") },
  output: { type: "number", check: (v: number) => (v >= 0 ? undefined : "dollars per million tokens, 0 or more") },
  cache_read: { type: "number", check: (v: number) => (v >= 0 ? undefined : "dollars per million tokens, 0 or more") },
  cache_write: { type: "number", check: (v: number) => (v >= 0 ? undefined : "dollars per million tokens, 0 or more") },
};

/** The sections this module reads: the server config's generic check leaves them to it. */
export const agentSections = ["agents", "prices", "budgets"];

/**
 * Problems in `[agents.<name>]`, `[prices."<model>"]` and `[budgets]`, each naming the file and key.
 * A `fallback` must name configured agents; a `command` agent needs a command.
 */
export function agentConfigProblems(file: string, doc: TomlTable): string[] {
  const problems: string[] = [];
  const agents = sectionOf(doc, "agents");
  const asRules = (table: TomlTable, rulesOf: Record<string, import("./schema.js").KeyRule>, prefix: string): SectionRules =>
    Object.fromEntries(Object.keys(table).map((name) => [`${prefix}.${name}`, rulesOf]));
  const prefixed = (table: TomlTable, prefix: string): TomlTable => Object.fromEntries(Object.entries(table).map(([k, v]) => [`${prefix}.${k}`, v]));
  for (const name of Object.keys(agents)) if (!agentName.test(name)) problems.push(`${file}: [agents.${name}]: an agent name is lowercase letters, digits, - and _ (at most 40)`);
  problems.push(...checkAgainstRules(file, prefixed(agents, "agents"), asRules(agents, agentRules, "agents")));
  const prices = sectionOf(doc, "prices");
  problems.push(...checkAgainstRules(file, prefixed(prices, "prices"), asRules(prices, priceRules, "prices")));
  problems.push(...checkAgainstRules(file, { budgets: doc.budgets ?? {} }, { budgets: budgetRules }));
  if (problems.length > 0) return problems;
  const names = new Set([...Object.keys(agents), ...agentKinds.filter((kind) => defaultPrograms[kind])]);
  for (const [name, table] of Object.entries(agents) as [string, TomlTable][]) {
    const kind = (table.kind as AgentKind | undefined) ?? name;
    if (!isAgentKind(kind)) problems.push(`${file}: [agents.${name}] kind: expected one of ${agentKinds.join(", ")} (the kind defaults to the name)`);
    else if (kind === "command" && !table.command) problems.push(`${file}: [agents.${name}] command: a command agent needs the command line it runs`);
    for (const other of (table.fallback as string[] | undefined) ?? []) {
      if (!names.has(other)) problems.push(`${file}: [agents.${name}] fallback: '${other}' is not a configured agent`);
    }
  }
  return problems;
}

/** The agents, prices and budgets of a checked config document, with defaults. */
export function agentSettingsOf(doc: TomlTable): AgentSettings {
  const configured = sectionOf(doc, "agents") as Record<string, TomlTable>;
  const agents: Record<string, AgentConfig> = {};
  for (const kind of agentKinds) if (defaultPrograms[kind]) agents[kind] = agentOf(kind, {});
  for (const [name, table] of Object.entries(configured)) agents[name] = agentOf(name, table);
  const prices: Record<string, ModelPrice> = {};
  for (const [model, table] of Object.entries(sectionOf(doc, "prices")) as [string, TomlTable][]) {
    prices[model] = { input: num(table.input), output: num(table.output), cacheRead: num(table.cache_read), cacheWrite: num(table.cache_write) };
  }
  const b = sectionOf(doc, "budgets");
  const budgets: AgentBudgets = {
    runMinutes: (b.run_minutes as number | undefined) ?? 30,
    idleMinutes: (b.idle_minutes as number | undefined) ?? 10,
    repeatedToolCalls: (b.repeated_tool_calls as number | undefined) ?? 5,
    sameErrorAttempts: (b.same_error_attempts as number | undefined) ?? 3,
    taskTokens: b.task_tokens as number | undefined,
    taskTurns: b.task_turns as number | undefined,
    taskMinutes: b.task_minutes as number | undefined,
    taskCostUsd: b.task_cost_usd as number | undefined,
    helpGraceSeconds: (b.help_grace_seconds as number | undefined) ?? 30,
  };
  return { agents, prices, budgets };
}

const num = (value: unknown) => (typeof value === "number" ? value : 0);

function agentOf(name: string, table: TomlTable): AgentConfig {
  const kind = ((table.kind as string | undefined) ?? name) as AgentKind;
  const home = table.home as string | undefined;
  return {
    name,
    kind,
    command: (table.command as string | undefined) ?? defaultPrograms[kind] ?? "",
    args: (table.args as string[] | undefined) ?? [],
    model: table.model as string | undefined,
    env: (table.env as Record<string, string> | undefined) ?? {},
    secrets: (table.secrets as string[] | undefined) ?? [],
    home: home ?? defaultAgentHome(kind),
    homeIsDefault: home === undefined,
    onExit: (table.on_exit as "done" | "wait" | undefined) ?? "done",
    fallback: (table.fallback as string[] | undefined) ?? [],
  };
}
