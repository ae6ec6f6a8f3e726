import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { CookError } from "../core/errors.js";

// Loaded on first use: every CLI command reads the client config, most often a file that does not
// exist, and loading the parser costs 11 ms of a 180 ms start. smol-toml ships a CommonJS build.
let toml: typeof import("smol-toml") | undefined;
const loadToml = () => (toml ??= createRequire(import.meta.url)("smol-toml") as typeof import("smol-toml"));

export type TomlTable = Record<string, unknown>;

/** Reads and parses a TOML file; a syntax error names the file, line and column. */
export function readTomlFile(file: string): TomlTable {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === "ENOENT" ? "file not found" : (err as Error).message;
    throw new CookError("invalid", `cannot read config ${file}: ${reason}`);
  }
  return parseToml(text, file);
}

/** Parses TOML text read from `source` (a file, or a file on a branch); a syntax error names it, the line and the column. */
export function parseToml(text: string, source: string): TomlTable {
  const { parse, TomlError } = loadToml();
  try {
    return parse(text) as TomlTable;
  } catch (err) {
    if (err instanceof TomlError) {
      const firstLine = err.message.split("\n")[0] ?? "syntax error";
      throw new CookError("invalid", `${source}:${err.line}:${err.column}: invalid TOML: ${firstLine}`);
    }
    throw err;
  }
}
