// Reading fields of parsed JSON without trusting its shape: a CLI's next version may send any field
// as any type, and a wrong type reads as absent rather than as an exception.

export type Json = Record<string, unknown>;

export function asObject(value: unknown): Json | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Json) : undefined;
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function asString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** A non-empty string, or undefined. */
export function asId(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value : undefined;
}

/** A finite number, or undefined (NaN, strings and negatives of counts are not counts). */
export function asNumber(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** A token count: a finite number ≥ 0, else 0. */
export function asCount(value: unknown): number {
  const n = asNumber(value);
  return n !== undefined && n > 0 ? Math.floor(n) : 0;
}

/** Text of a tool's output in any of the usual shapes: a string, content blocks, or other JSON. */
export function outputText(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (Array.isArray(value)) {
    return value
      .map((block) => {
        const o = asObject(block);
        if (o && typeof o.text === "string") return o.text;
        const nested = asObject(o?.text);
        if (nested && typeof nested.text === "string") return nested.text;
        if (o?.type === "image") return "[image]";
        return typeof block === "string" ? block : JSON.stringify(block);
      })
      .join("\n");
  }
  return JSON.stringify(value) ?? "";
}
