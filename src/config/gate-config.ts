import { CookError } from "../core/errors.js";
import { gateKinds, mergeStrategies, type GateDefinition, type GateFailAction, type GateKind, type MergeStrategy } from "../core/gate.js";
import { parseToml, type TomlTable } from "./toml-file.js";

const gateName = /^[a-z0-9][a-z0-9_-]{0,39}$/;
const defaultTimeoutMs = 30 * 60_000;
const maxTimeoutMs = 24 * 60 * 60_000;
const maxGates = 20;
const knownKeys = ["name", "kind", "command", "timeout", "retries", "on_fail", "agent", "prompt", "reviewers"];

/**
 * A duration as cook.toml gives it: `"90s"`, `"20m"`, `"2h"`, or a whole number of seconds. Returns
 * milliseconds, or undefined when the text is not one.
 */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isInteger(value) && value > 0 ? value * 1000 : undefined;
  if (typeof value !== "string") return undefined;
  const match = /^\s*(\d+)\s*(s|m|h)\s*$/.exec(value);
  if (!match) return undefined;
  const unit = { s: 1000, m: 60_000, h: 3_600_000 }[match[2] as "s" | "m" | "h"];
  const ms = Number(match[1]) * unit;
  return ms > 0 ? ms : undefined;
}

/** 1-based lines of the `[[gates]]` headers in the text, in order. */
function gateHeaderLines(text: string): number[] {
  const lines: number[] = [];
  text.split("\n").forEach((line, index) => {
    if (/^\s*\[\[\s*gates\s*\]\]\s*(#.*)?$/.test(line)) lines.push(index + 1);
  });
  return lines;
}

/** What a repo's cook.toml says about gating beyond the gates themselves (`[gate_defaults]`, `[merge]`). */
export interface GatePolicy {
  /** on_fail of gates that do not say (`[gate_defaults] on_fail`, default "stop"). */
  onFail: GateFailAction;
  /** An agent_review asking for changes, or a human rejecting with comments, goes to the branch's agent. */
  onChangesRequested: GateFailAction;
  /** How many failures per branch are handed to its agent before the task goes to a human (default 3). */
  maxFixes: number;
  /** `[merge] strategy`: how a branch lands unless the merge names one (default "auto"). */
  strategy: MergeStrategy;
  /** `[merge] on_conflict = "agent"`: a merge conflict asks the branch's agent to rebase and resolve. */
  onConflict: GateFailAction;
}

export const defaultGatePolicy: GatePolicy = { onFail: "stop", onChangesRequested: "stop", maxFixes: 3, strategy: "auto", onConflict: "stop" };

/**
 * `[gate_defaults]` (on_fail, on_changes_requested, max_fixes) and `[merge]` (strategy,
 * on_conflict) of a cook.toml's text, defaulted. Throws CookError("invalid") listing every problem.
 */
export function parseGatePolicy(text: string | undefined, source = "cook.toml"): GatePolicy {
  if (text === undefined) return defaultGatePolicy;
  return policyOf(parseToml(text, source), source);
}

function policyOf(doc: TomlTable, source: string): GatePolicy {
  const problems: string[] = [];
  const section = (name: string, keys: string[]): TomlTable => {
    const table = doc[name];
    if (table === undefined) return {};
    if (!isTable(table)) {
      problems.push(`${source}: [${name}] must be a table`);
      return {};
    }
    for (const key of Object.keys(table)) if (!keys.includes(key)) problems.push(`${source}: unknown key ${name}.${key} (known keys: ${keys.join(", ")})`);
    return table;
  };
  const defaults = section("gate_defaults", ["on_fail", "on_changes_requested", "max_fixes"]);
  const merge = section("merge", ["strategy", "on_conflict"]);
  const action = (table: TomlTable, name: string, key: string): GateFailAction => {
    const value = table[key] ?? "stop";
    if (value === "agent" || value === "stop") return value;
    problems.push(`${source}: ${name}.${key} must be "agent" or "stop" (got ${describe(value)})`);
    return "stop";
  };
  const maxFixes = defaults.max_fixes ?? defaultGatePolicy.maxFixes;
  if (!Number.isInteger(maxFixes) || (maxFixes as number) < 0 || (maxFixes as number) > 20) problems.push(`${source}: gate_defaults.max_fixes must be a whole number from 0 to 20 (got ${describe(maxFixes)})`);
  const strategy = merge.strategy ?? "auto";
  if (!mergeStrategies.includes(strategy as MergeStrategy)) problems.push(`${source}: merge.strategy must be one of ${mergeStrategies.join(", ")} (got ${describe(strategy)})`);
  const policy: GatePolicy = {
    onFail: action(defaults, "gate_defaults", "on_fail"),
    onChangesRequested: action(defaults, "gate_defaults", "on_changes_requested"),
    maxFixes: Number.isInteger(maxFixes) ? (maxFixes as number) : defaultGatePolicy.maxFixes,
    strategy: mergeStrategies.includes(strategy as MergeStrategy) ? (strategy as MergeStrategy) : "auto",
    onConflict: action(merge, "merge", "on_conflict"),
  };
  if (problems.length > 0) throw new CookError("invalid", problems.join("; "));
  return policy;
}

const describe = (value: unknown) => (typeof value === "string" ? JSON.stringify(value) : Array.isArray(value) ? "an array" : value !== null && typeof value === "object" ? "a table" : String(value));
const isTable = (value: unknown): value is TomlTable => value !== null && typeof value === "object" && !Array.isArray(value) && !(value instanceof Date);

/**
 * The gates of a repo, from the text of the cook.toml on its target branch (undefined: no file, no
 * gates): `[[gates]]` entries in order, checked and defaulted. Every problem is listed in one
 * CookError("invalid") naming `source` and the line of the entry's `[[gates]]` header (a TOML syntax
 * error names its own line and column): a missing or repeated name, an unknown kind or key, a
 * command gate without a command, a bad timeout, retries or reviewers. Nothing is left to be found
 * out when a gate runs.
 */
export function parseGates(text: string | undefined, source = "cook.toml"): GateDefinition[] {
  if (text === undefined) return [];
  const doc = parseToml(text, source);
  if (doc.gates === undefined) return [];
  const defaultOnFail = isTable(doc.gate_defaults) && (doc.gate_defaults.on_fail === "agent" || doc.gate_defaults.on_fail === "stop") ? doc.gate_defaults.on_fail : "stop";
  const problems: string[] = [];
  if (!Array.isArray(doc.gates) || !doc.gates.every(isTable)) throw new CookError("invalid", `${source}: gates must be [[gates]] tables (got ${describe(doc.gates)})`);
  const entries = doc.gates as TomlTable[];
  if (entries.length > maxGates) problems.push(`${source}: at most ${maxGates} gates (got ${entries.length})`);
  const lines = gateHeaderLines(text);
  const seen = new Set<string>();
  const gates: GateDefinition[] = entries.map((entry, index) => {
    const line = lines[index];
    const where = `${source}${line ? `:${line}` : ""}: [[gates]] #${index + 1}`;
    const problem = (message: string) => problems.push(`${where}: ${message}`);
    for (const key of Object.keys(entry)) if (!knownKeys.includes(key)) problem(`unknown key ${key} (known keys: ${knownKeys.join(", ")})`);
    const name = typeof entry.name === "string" && gateName.test(entry.name) ? entry.name : undefined;
    if (!name) problem(`name must be 1-40 lowercase letters, digits, '-' or '_' (got ${describe(entry.name)})`);
    else if (seen.has(name)) problem(`name ${describe(name)} is used by an earlier gate`);
    if (name) seen.add(name);
    const kind = (entry.kind ?? "command") as GateKind;
    if (!gateKinds.includes(kind)) problem(`kind must be one of ${gateKinds.join(", ")} (got ${describe(entry.kind)})`);
    const command = typeof entry.command === "string" && entry.command.trim() !== "" ? entry.command : undefined;
    if (kind === "command" && !command) problem("a command gate needs command = \"…\"");
    if (entry.command !== undefined && typeof entry.command !== "string") problem(`command must be a string (got ${describe(entry.command)})`);
    const timeoutMs = entry.timeout === undefined ? defaultTimeoutMs : parseDuration(entry.timeout);
    if (timeoutMs === undefined || timeoutMs > maxTimeoutMs) problem(`timeout must be like "90s", "20m" or "2h", at most 24h (got ${describe(entry.timeout)})`);
    const retries = { exitCodes: [] as number[], limit: 0 };
    if (entry.retries !== undefined) {
      const r = entry.retries;
      const codes = isTable(r) ? r.exit_codes : undefined;
      const limit = isTable(r) ? r.limit : undefined;
      if (!isTable(r) || !Array.isArray(codes) || !codes.every((c) => Number.isInteger(c) && (c as number) > 0 && (c as number) < 256) || !Number.isInteger(limit) || (limit as number) < 0 || (limit as number) > 10) {
        problem("retries must be { exit_codes = [<1-255>, …], limit = <0-10> }");
      } else {
        retries.exitCodes = codes as number[];
        retries.limit = limit as number;
      }
    }
    const onFail = (entry.on_fail ?? defaultOnFail) as GateFailAction;
    if (onFail !== "agent" && onFail !== "stop") problem(`on_fail must be "agent" or "stop" (got ${describe(entry.on_fail)})`);
    const reviewers = entry.reviewers ?? [];
    if (!Array.isArray(reviewers) || !reviewers.every((r) => typeof r === "string" && r.trim() !== "")) problem(`reviewers must be an array of token names (got ${describe(entry.reviewers)})`);
    for (const key of ["agent", "prompt"] as const) if (entry[key] !== undefined && typeof entry[key] !== "string") problem(`${key} must be a string (got ${describe(entry[key])})`);
    return {
      name: name ?? "",
      kind,
      command,
      timeoutMs: timeoutMs ?? defaultTimeoutMs,
      retries,
      onFail,
      agent: typeof entry.agent === "string" ? entry.agent : undefined,
      prompt: typeof entry.prompt === "string" ? entry.prompt : undefined,
      reviewers: Array.isArray(reviewers) ? (reviewers as string[]) : [],
      line,
    };
  });
  if (problems.length > 0) throw new CookError("invalid", problems.join("; "));
  return gates;
}
