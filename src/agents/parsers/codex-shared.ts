import type { FileChangeEvent, UsageEvent } from "../../core/agent-event.js";
import { asCount, type Json } from "./fields.js";

// Token counting and change kinds shared by the shapes of `codex exec --json` (codex.ts, codex-protocol.ts).

/** Token counts as Codex reports them: `input` includes the cached part. */
export type Totals = { input: number; cached: number; cacheWrite: number; output: number };

export const noTokens: Totals = { input: 0, cached: 0, cacheWrite: 0, output: 0 };

/** A usage event for counts in Codex's sense: inputTokens is the part not read from or written to the cache. */
export function usageOf(delta: Totals): UsageEvent[] {
  const input = Math.max(0, delta.input - delta.cached - delta.cacheWrite);
  if (input + delta.cached + delta.cacheWrite + delta.output === 0) return [];
  return [{ kind: "usage", inputTokens: input, outputTokens: delta.output, cacheReadTokens: delta.cached, cacheWriteTokens: delta.cacheWrite }];
}

export function totalsOf(u: Json): Totals {
  return { input: asCount(u.input_tokens), cached: asCount(u.cached_input_tokens), cacheWrite: asCount(u.cache_write_input_tokens), output: asCount(u.output_tokens) };
}

/** What a running total grew by; a total smaller than the last one means the count started over, and is itself the growth. */
export function growth(previous: Totals | undefined, current: Totals): Totals {
  if (!previous) return current;
  const shrank = current.input < previous.input || current.cached < previous.cached || current.cacheWrite < previous.cacheWrite || current.output < previous.output;
  if (shrank) return current;
  return { input: current.input - previous.input, cached: current.cached - previous.cached, cacheWrite: current.cacheWrite - previous.cacheWrite, output: current.output - previous.output };
}

export function changeKind(kind: unknown): FileChangeEvent["changes"][number]["change"] {
  return kind === "add" || kind === "delete" ? kind : "update";
}
