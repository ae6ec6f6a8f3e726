import { TypeID, typeid } from "typeid-js";

/**
 * Prefixes of factory record ids. A TypeID is `<prefix>_` + 26 Crockford base32 characters of a
 * UUIDv7, so ids sort by creation time (https://github.com/jetify-com/typeid, spec v0.3).
 */
export type IdPrefix = "brn" | "env" | "ses" | "run" | "mrg" | "apr" | "dsp" | "pln";

const idPattern = /^([a-z]{3})_([0-7][0-9a-hjkmnp-tv-z]{25})$/;

/** A new id, e.g. `brn_01m8st0j1hecy87rsabapkwdts`. */
export function newId(prefix: IdPrefix): string {
  return typeid(prefix).toString();
}

/** Whether `text` is an id with this prefix (only the form is checked, not that a record exists). */
export function isId(prefix: IdPrefix, text: string): boolean {
  const match = idPattern.exec(text);
  if (!match || match[1] !== prefix) return false;
  try {
    TypeID.fromString(text);
    return true;
  } catch {
    return false;
  }
}
