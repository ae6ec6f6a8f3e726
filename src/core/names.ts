import { CookError } from "./errors.js";
import { showInput } from "./show-input.js";

export const repoNameRule = "a repo name is 1-100 letters, digits, '.', '_' or '-', does not start with '.' and does not end in '.git'";

/** Repo names become folder names and URL segments, so the rule is strict: nothing that can traverse. */
export function isValidRepoName(name: string): boolean {
  return /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$/.test(name) && !name.endsWith(".git") && !name.endsWith(".lock");
}

export function checkRepoName(name: unknown): string {
  if (typeof name !== "string" || !isValidRepoName(name)) {
    throw new CookError("invalid", `${showInput(name)} is not a valid repo name: ${repoNameRule}`);
  }
  return name;
}

/**
 * A branch name as git accepts it, at most 255 bytes of UTF-8 (git-check-ref-format with --branch rules), checked without
 * spawning git: no `..`, no control characters or ` ~^:?*[\`, no `@{`, no component starting with
 * `.` or ending with `.lock`, no leading or trailing `/`, not `@`.
 */
export function isValidBranchName(name: string): boolean {
  // A ref is a file under refs/: its name is limited in bytes (NAME_MAX), not in UTF-16 units.
  if (name === "" || name === "@" || Buffer.byteLength(name) > 255) return false;
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(name) || name.includes("..") || name.includes("@{") || name.includes("//")) return false;
  if (name.startsWith("/") || name.endsWith("/") || name.endsWith(".") || name.startsWith("-")) return false;
  return name.split("/").every((part) => !part.startsWith(".") && !part.endsWith(".lock"));
}

export const zeroSha = "0000000000000000000000000000000000000000";

export function isSha(text: string): boolean {
  return /^[0-9a-f]{40}$/.test(text);
}
