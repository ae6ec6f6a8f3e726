import type { TomlTable } from "./toml-file.js";

/** What one config key accepts; `check` returns what was expected when the value is refused. */
export interface KeyRule {
  type: "string" | "integer" | "number" | "boolean" | "strings" | "table";
  check?: (value: never) => string | undefined;
}

export type SectionRules = Record<string, Record<string, KeyRule>>;

const typeNames: Record<KeyRule["type"], string> = {
  string: "a string",
  integer: "an integer",
  number: "a number",
  table: "a table",
  boolean: "true or false",
  strings: "an array of strings",
};

function typeMatches(rule: KeyRule, value: unknown): boolean {
  if (rule.type === "integer") return typeof value === "number" && Number.isInteger(value);
  if (rule.type === "number") return typeof value === "number" && Number.isFinite(value);
  if (rule.type === "table") return value !== null && typeof value === "object" && !Array.isArray(value);
  if (rule.type === "strings") return Array.isArray(value) && value.every((item) => typeof item === "string");
  return typeof value === rule.type;
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "an array";
  if (value !== null && typeof value === "object") return "a table";
  return String(value);
}

/**
 * Checks a parsed TOML document against the rules and lists every problem, each naming the file,
 * the key and what was expected, so one run of the user's editor fixes them all.
 */
export function checkAgainstRules(file: string, doc: TomlTable, rules: SectionRules): string[] {
  const problems: string[] = [];
  for (const [section, table] of Object.entries(doc)) {
    const sectionRules = rules[section];
    if (!sectionRules) {
      problems.push(`${file}: unknown section [${section}] (expected one of ${Object.keys(rules).map((s) => `[${s}]`).join(", ")})`);
      continue;
    }
    if (table === null || typeof table !== "object" || Array.isArray(table)) {
      problems.push(`${file}: ${section}: expected a table [${section}], got ${describe(table)}`);
      continue;
    }
    for (const [key, value] of Object.entries(table as TomlTable)) {
      const rule = sectionRules[key];
      if (!rule) {
        problems.push(`${file}: [${section}] ${key}: unknown key (expected one of ${Object.keys(sectionRules).join(", ")})`);
        continue;
      }
      if (!typeMatches(rule, value)) {
        problems.push(`${file}: [${section}] ${key}: expected ${typeNames[rule.type]}, got ${describe(value)}`);
        continue;
      }
      const expected = rule.check?.(value as never);
      if (expected) problems.push(`${file}: [${section}] ${key}: expected ${expected}, got ${describe(value)}`);
    }
  }
  return problems;
}

export function sectionOf(doc: TomlTable, section: string): TomlTable {
  const table = doc[section];
  return table && typeof table === "object" && !Array.isArray(table) ? (table as TomlTable) : {};
}
