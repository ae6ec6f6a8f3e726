import { backendNames, type BackendName } from "../core/branch.js";
import { CookError } from "../core/errors.js";
import { checkAgainstRules, sectionOf } from "./schema.js";
import { parseToml } from "./toml-file.js";

/** Most branches autopilot keeps busy at once in one repo. */
export const maxAutopilotConcurrency = 32;

/**
 * `[autopilot]` of a repo's cook.toml (on its default branch): whether and how ready tasks become
 * branches with an agent on their own.
 */
export interface AutopilotConfig {
  /** Whether cook.toml has an `[autopilot]` table at all. */
  readonly present: boolean;
  /** `enabled` (default true when the table is there); a switch from the CLI or web overrides it. */
  readonly enabled: boolean;
  /** Branches of this repo autopilot keeps working at once (default 2). */
  readonly concurrency: number;
  /** The agent each branch starts; undefined: the server's default agent. */
  readonly agent: string | undefined;
  /** The environment backend; undefined: cook.toml's [environment] backend, else local. */
  readonly backend: BackendName | undefined;
  /** "auto": each branch merges itself once its gates pass; "manual": a human merges. */
  readonly merge: "auto" | "manual";
  /** Only tasks carrying one of these labels (front-matter `labels`); empty: every task. */
  readonly labels: readonly string[];
  /**
   * Whether a ready task whose expected files (front-matter `files`) overlap an open branch's
   * changed or expected files waits until that branch has merged or ended (default false).
   */
  readonly serializeOverlaps: boolean;
}

export const defaultAutopilotConfig: AutopilotConfig = { present: false, enabled: false, concurrency: 2, agent: undefined, backend: undefined, merge: "auto", labels: [], serializeOverlaps: false };

const rules = {
  autopilot: {
    enabled: { type: "boolean" },
    concurrency: { type: "integer", check: (n: number) => (n >= 1 && n <= maxAutopilotConcurrency ? undefined : `a whole number from 1 to ${maxAutopilotConcurrency}`) },
    agent: { type: "string", check: (s: string) => (s.trim() !== "" ? undefined : "an agent's name") },
    backend: { type: "string", check: (s: string) => (backendNames.includes(s as BackendName) && s !== "none" ? undefined : `one of ${backendNames.filter((b) => b !== "none").join(", ")} (an agent needs an environment)`) },
    merge: { type: "string", check: (s: string) => (s === "auto" || s === "manual" ? undefined : '"auto" or "manual"') },
    labels: { type: "strings" },
    serialize_overlaps: { type: "boolean" },
  },
} as const;

/**
 * The `[autopilot]` table of a cook.toml's text (undefined: no cook.toml), defaulted. Other tables
 * are left to their own parsers. Throws CookError("invalid") listing every problem with `source`.
 */
export function parseAutopilotConfig(text: string | undefined, source = "cook.toml"): AutopilotConfig {
  if (text === undefined) return defaultAutopilotConfig;
  const doc = parseToml(text, source);
  if (doc.autopilot === undefined) return defaultAutopilotConfig;
  const problems = checkAgainstRules(source, { autopilot: doc.autopilot }, rules);
  if (problems.length > 0) throw new CookError("invalid", problems.join("; "));
  const table = sectionOf(doc, "autopilot") as { enabled?: boolean; concurrency?: number; agent?: string; backend?: BackendName; merge?: "auto" | "manual"; labels?: string[]; serialize_overlaps?: boolean };
  return Object.freeze({
    present: true,
    enabled: table.enabled ?? true,
    concurrency: table.concurrency ?? defaultAutopilotConfig.concurrency,
    agent: table.agent?.trim(),
    backend: table.backend,
    merge: table.merge ?? "auto",
    labels: Object.freeze([...(table.labels ?? [])]),
    serializeOverlaps: table.serialize_overlaps ?? false,
  });
}
