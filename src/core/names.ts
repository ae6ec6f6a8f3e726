import { CookError } from "./errors.js";
import { showInput } from "./show-input.js";

export const repoNameRule = "a repo name is 1-100 letters, digits, '.', '_' or '-', does not start with '.' and does not end in '.git'";

/** Repo names become folder names and URL segments, so the rule is strict: nothing that can traverse. */
export function isValidRepoName(name: string): boolean {
  return /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$/.test(name) && !name.endsWith(".git") && !name.endsWith(".lock");
}

export function checkRepoName(name: unknown): string {
  if (name === undefined || name === "") throw new CookError("invalid", "name the repo");
  if (typeof name !== "string" || !isValidRepoName(name)) {
    throw new CookError("invalid", `${showInput(name)} is not a valid repo name: ${repoNameRule}`);
  }
  return name;
}

/**
 * The first path segments of the server's own pages and API. A repo is also served at
 * `/<repo>/info/refs` (git tries that when cloned without `.git`), so a repo must not take one of
 * these names, and a request under one of them is never git's. Compared case-insensitively, as
 * the router matches paths.
 */
export const serverRouteNames: readonly string[] = ["api", "branches", "events", "factory", "healthz", "internal", "plans", "public", "repos", "tasks"];

export function isServerRouteName(name: string): boolean {
  return serverRouteNames.includes(name.toLowerCase());
}

/**
 * Names a repo cannot take because a page under /repos/ has it: `/repos/new` is the form that
 * makes repos, so a repo of that name would have no home page.
 */
export const reservedRepoNames: readonly string[] = ["new"];

/**
 * checkRepoName, plus the rules for new repos: not a server route name (an existing one stays
 * reachable at `<name>.git`) and not a reserved name. Both compared case-insensitively, as the router matches.
 */
export function checkNewRepoName(name: unknown): string {
  const valid = checkRepoName(name);
  if (isServerRouteName(valid)) {
    throw new CookError("invalid", `'${valid}' cannot be a repo name: /${valid.toLowerCase()} is one of the factory's own pages, so the repo's URL without .git could not reach it`);
  }
  if (reservedRepoNames.includes(valid.toLowerCase())) {
    throw new CookError("invalid", `'${valid}' cannot be a repo name: /repos/${valid.toLowerCase()} is the factory's page for making repos`);
  }
  return valid;
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
