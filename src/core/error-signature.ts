import { createHash } from "node:crypto";

/**
 * An error message with its volatile parts taken out (times, dates, ids, hex hashes, paths,
 * numbers), so that the same failure seen again matches: "ENOENT /tmp/x1/a.ts at 12:01:03" and
 * "ENOENT /tmp/y9/a.ts at 12:07:44" are one error.
 */
export function normalizeError(message: string): string {
  return message
    .replace(/\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?/g, "<time>")
    .replace(/\b\d{1,2}:\d{2}(:\d{2})?\b/g, "<time>")
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, "<id>")
    .replace(/\b[a-z]{2,8}_[0-9a-z]{20,}\b/g, "<id>")
    .replace(/\b[0-9a-f]{7,64}\b/gi, "<hex>")
    .replace(/(?:\/[\w.@+-]+)+\/?/g, "<path>")
    .replace(/\d+(\.\d+)?/g, "<n>")
    .replace(/\s+/g, " ")
    .trim()
    .toLowerCase();
}

/** A short stable hash of the normalized message (sha256, 16 hex digits). */
export function errorSignature(message: string): string {
  return createHash("sha256").update(normalizeError(message)).digest("hex").slice(0, 16);
}
