import { CookError } from "../core/errors.js";
import { showInput } from "../core/show-input.js";

/** The one place event subjects are built: `cook.<kind>.<repo>.…` with names encoded into single tokens. */
export const subjectRoot = "cook";
export const allSubjects = "cook.>";

// NATS subject tokens may not contain `.`, `*`, `>` or whitespace, and repo and branch names do
// (`fix/typo`, `v1.2`, unicode). Everything outside [A-Za-z0-9-] becomes `_` plus the two hex
// digits of each UTF-8 byte, so `fix/typo` → `fix_2Ftypo`; `_` itself is escaped, which keeps the
// encoding reversible and plain names readable in `nats sub` output.
const plain = /[A-Za-z0-9-]/;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export function encodeToken(name: string): string {
  if (name === "") return "_";
  let out = "";
  for (const char of name) {
    if (plain.test(char)) {
      out += char;
      continue;
    }
    for (const byte of encoder.encode(char)) out += "_" + byte.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

export function decodeToken(token: string): string {
  if (token === "_") return "";
  if (!/^(?:[A-Za-z0-9-]|_[0-9A-F]{2})+$/.test(token)) {
    throw new CookError("invalid", `${showInput(token)} is not an encoded subject token`);
  }
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    if (token[i] === "_") {
      bytes.push(parseInt(token.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(token.charCodeAt(i));
    }
  }
  try {
    return decoder.decode(new Uint8Array(bytes));
  } catch {
    throw new CookError("invalid", `${showInput(token)} does not decode to UTF-8`);
  }
}

export type BranchAction = "created" | "pushed" | "deleted" | "merged" | "abandoned";
export type AgentAction = "started" | "output" | "completed" | "failed" | "help" | "interrupted" | "paused";
export type GateAction = "started" | "output" | "passed" | "failed" | "waiting" | "canceled";
export type TagAction = "created" | "pushed" | "deleted";
export type RepoAction = "created" | "imported" | "removed";
/** Autopilot's decisions in a repo: a task given a branch, a task passed over (with why), autopilot stopped by a problem, its switch flipped, a person continuing past a stage. */
export type AutopilotAction = "dispatched" | "skipped" | "paused" | "switched" | "continued";
/** An environment's state changes, and `output` for its setup script's lines. */
export type EnvironmentAction = "creating" | "ready" | "failed" | "lost" | "torn_down" | "output";

const enc = encodeToken;
const action = (word: string) => {
  if (!/^[a-z][a-z0-9_-]*$/.test(word)) throw new CookError("invalid", `${showInput(word)} is not a valid event action`);
  return word;
};

export const subjects = {
  repo: (repo: string, act: RepoAction) => `${subjectRoot}.repo.${enc(repo)}.${action(act)}`,
  branch: (repo: string, branch: string, act: BranchAction) => `${subjectRoot}.branch.${enc(repo)}.${enc(branch)}.${action(act)}`,
  tag: (repo: string, tag: string, act: TagAction) => `${subjectRoot}.tag.${enc(repo)}.${enc(tag)}.${action(act)}`,
  environment: (repo: string, branch: string, act: EnvironmentAction) => `${subjectRoot}.environment.${enc(repo)}.${enc(branch)}.${action(act)}`,
  agent: (repo: string, branch: string, act: AgentAction) => `${subjectRoot}.agent.${enc(repo)}.${enc(branch)}.${action(act)}`,
  gate: (repo: string, branch: string, gate: string, act: GateAction) =>
    `${subjectRoot}.gate.${enc(repo)}.${enc(branch)}.${enc(gate)}.${action(act)}`,
  autopilot: (repo: string, act: AutopilotAction) => `${subjectRoot}.autopilot.${enc(repo)}.${action(act)}`,
  /** A plan's life: started, drafted (or failed), accepted. */
  plan: (repo: string, planId: string, act: "started" | "drafted" | "failed" | "accepted") => `${subjectRoot}.plan.${enc(repo)}.${enc(planId)}.${action(act)}`,
  task: (repo: string, taskId: string, act: string) => `${subjectRoot}.task.${enc(repo)}.${enc(taskId)}.${action(act)}`,
  /** Events announced from outside Cook (CI, scripts) through the API: `cook.custom.<repo>.<name>`. */
  custom: (repo: string, name: string) => `${subjectRoot}.custom.${enc(repo)}.${action(name)}`,
  /** Every event of one plan. */
  ofPlan: (repo: string, planId: string) => `${subjectRoot}.plan.${enc(repo)}.${enc(planId)}.>`,
  /** Every event of one repo's tasks. */
  ofTasks: (repo: string) => `${subjectRoot}.task.${enc(repo)}.>`,
  /** Every event of one repo, any kind. */
  ofRepo: (repo: string) => `${subjectRoot}.*.${enc(repo)}.>`,
  /** Every event of one branch, any kind (branch, environment, agent, gate; a tag or task named alike matches too). */
  ofBranch: (repo: string, branch: string) => `${subjectRoot}.*.${enc(repo)}.${enc(branch)}.>`,
};

/** NATS wildcard rules: `*` is exactly one token, `>` is one or more tokens and only at the end. */
export function checkPattern(pattern: string): string {
  const tokens = pattern.split(".");
  const problem = tokens.some((token) => token === "" || /\s/.test(token))
    ? "has an empty token or whitespace"
    : tokens.some((token, i) => (token.includes(">") && (token !== ">" || i !== tokens.length - 1)) || (token.includes("*") && token !== "*"))
      ? "uses a wildcard inside a token or `>` before the end"
      : undefined;
  if (problem) throw new CookError("invalid", `subject pattern ${showInput(pattern)} ${problem}`);
  return pattern;
}

export function subjectMatches(pattern: string, subject: string): boolean {
  const want = pattern.split(".");
  const have = subject.split(".");
  for (let i = 0; i < want.length; i++) {
    if (want[i] === ">") return have.length > i;
    if (i >= have.length) return false;
    if (want[i] !== "*" && want[i] !== have[i]) return false;
  }
  return want.length === have.length;
}

/** The same match as subjectMatches, as a PostgreSQL regular expression for filtering the event log. */
export function patternToRegex(pattern: string): string {
  checkPattern(pattern);
  const parts = pattern.split(".").map((token) =>
    token === "*" ? "[^.]+" : token === ">" ? ".+" : token.replace(/[\\^$.|?*+()[\]{}-]/g, (c) => `\\${c}`),
  );
  return `^${parts.join("\\.")}$`;
}
