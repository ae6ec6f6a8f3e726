/**
 * A value a caller sent, as an error message may quote it: text cut to `max` characters (counted
 * in code points) with an ellipsis, anything that is not text named by its type. Never calls the
 * value's own toString: a JSON object may carry `{"toString": "x"}`, which makes String() throw.
 */
export function showInput(value: unknown, max = 60): string {
  if (typeof value === "string") {
    const chars = [...value];
    return `'${chars.length > max ? `${chars.slice(0, max).join("")}…` : value}'`;
  }
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  if (typeof value === "number" || typeof value === "boolean") return JSON.stringify(value);
  return `a ${typeof value}`;
}
