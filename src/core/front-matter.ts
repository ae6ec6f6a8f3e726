import { Document, isAlias, isMap, isNode, isScalar, isSeq, parseDocument, visit } from "yaml";
import { CookError } from "./errors.js";
import { maxExtraBytes } from "./task.js";

/**
 * How task front matter is read: YAML 1.2 (so `yes` is text and there are no timestamps), and
 * integers as BigInt, so that `flickr_id: 72157688988508171` is never rounded to a double.
 */
export const readOptions = { version: "1.2", uniqueKeys: true, intAsBigInt: true } as const;

/**
 * A scalar's text as written: `0008`, `2024`, `1e3` and `null` stay exactly those characters
 * (a quoted scalar gives its unquoted text). Task fields that are text are read this way, so YAML's
 * guess at a type never changes them. A list, map or alias is refused.
 */
export function scalarText(name: string, node: unknown): string {
  if (node === null || node === undefined) return "";
  if (!isScalar(node)) throw new CookError("invalid", `${name} must be a single value, not ${isSeq(node) ? "a list" : isMap(node) ? "a map" : isAlias(node) ? "an alias" : "this"}`);
  return node.source ?? String(node.value ?? "");
}

/** An integer too large for a double, or ±infinity / NaN, which JSON cannot hold, as its text. */
function jsonSafe(_key: unknown, value: unknown): unknown {
  if (typeof value === "bigint") return Number.isSafeInteger(Number(value)) ? Number(value) : String(value);
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  return value;
}

/** A node's value as JSON: what the API shows for an extra key. An alias that cannot be resolved is refused. */
export function plainValue(doc: Document, node: unknown): unknown {
  try {
    return isNode(node) ? (node.toJS(doc, { maxAliasCount: 100, reviver: jsonSafe }) ?? null) : null;
  } catch (err) {
    // toJS throws a ReferenceError for an alias before its anchor or one repeated past maxAliasCount.
    throw new CookError("invalid", (err as Error).message);
  }
}

/** A map key as text: a plain key is its characters as written. */
export function keyText(node: unknown): string {
  return isScalar(node) ? scalarText("a key", node) : String(node);
}

/**
 * Whether `text` is a front-matter entry that can be written back as it is: `key:` at the start
 * of its first line, every other line indented, a list item, a comment or blank (so it cannot end
 * the front matter or swallow the next key), ending in a newline, and read on its own it gives exactly
 * this key and value (so it leans on no anchor elsewhere).
 */
export function isVerbatimEntry(key: string, value: unknown, text: string): boolean {
  if (!text.endsWith("\n") || !/^[^\s#]/.test(text)) return false;
  // `- item` at the start of a line is the common way to write a list under its key.
  if (text.slice(0, -1).split("\n").slice(1).some((line) => !/^(?:[ \t#]|-(?:[ \t]|$)|$)/.test(line))) return false;
  const doc = parseDocument(text, readOptions);
  if (doc.errors.length > 0 || !isMap(doc.contents) || doc.contents.items.length !== 1) return false;
  const pair = doc.contents.items[0]!;
  try {
    return keyText(pair.key) === key && JSON.stringify(plainValue(doc, pair.value)) === JSON.stringify(value);
  } catch {
    return false;
  }
}

/**
 * The written form of extra keys: each must be an entry of one key of `extra` that reads back as
 * its value (anything else could smuggle other keys or a `---` into an exported file), 64 KiB in all.
 */
export function checkExtraYaml(extra: Record<string, unknown>, extraYaml: unknown): Record<string, string> {
  if (extraYaml === undefined) return {};
  if (extraYaml === null || typeof extraYaml !== "object" || Array.isArray(extraYaml)) throw new CookError("invalid", "extraYaml must be an object of YAML entries");
  let size = 0;
  for (const [key, text] of Object.entries(extraYaml)) {
    if (!Object.hasOwn(extra, key) || typeof text !== "string" || !isVerbatimEntry(key, extra[key], text)) {
      throw new CookError("invalid", `extraYaml for '${key}' is not a YAML entry of that extra key and its value`);
    }
    size += Buffer.byteLength(text);
  }
  if (size > maxExtraBytes) throw new CookError("invalid", `the extra keys are ${size} bytes of YAML; the limit is ${maxExtraBytes} (64 KiB)`);
  return extraYaml as Record<string, string>;
}

/**
 * Fresh YAML for keys and values that reads back as the same JSON: text is quoted wherever plain
 * text would read as something else, and a number past 2^53 is written with an exponent, since
 * its digits alone would read back as an exact integer, that is as text.
 */
export function writeYaml(entries: Record<string, unknown>): string {
  const doc = new Document(entries, { version: "1.2" });
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === "number" && Number.isInteger(node.value) && !Number.isSafeInteger(node.value)) node.format = "EXP";
    },
  });
  // lineWidth 0: a long title stays on one line instead of being folded.
  return doc.toString({ lineWidth: 0 });
}
