import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { chmod, copyFile, lstat, mkdir, readdir, realpath, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join, relative, sep } from "node:path";
import { CookError } from "../core/errors.js";
import { relativePathProblem } from "../core/relative-path.js";

export interface CopyResult {
  /** The requested paths that were copied, in the order given. */
  copied: string[];
  /** Requested paths the source folder does not have, and symlinks to nothing found inside copied folders. */
  missing: string[];
}

interface CopyStep {
  kind: "dir" | "file";
  /** The real path of the source. */
  from: string;
  /** The path relative to the checkout. */
  to: string;
  mode: number;
}

/**
 * Copies each relative path (a file, or a folder with everything in it) from `sourceDir` to the
 * same path in `checkout`, creating parent folders, replacing files already there, and keeping
 * permission bits (not owner, not setuid/setgid/sticky). Symlinks in the source are copied as
 * what they point to, which must be inside `sourceDir`; symlinked folders in the checkout are
 * followed only while they stay inside it and out of `.git`.
 *
 * Everything is checked before anything is written: a path that is not a normalized relative
 * path, or that leads out of either folder, throws CookError("invalid") and leaves the checkout
 * as it was. A path the source does not have is reported in `missing`, not thrown.
 *
 * The checks resolve symlinks, then write; a process changing the checkout meanwhile could race
 * them, so call this before anything else runs in the checkout (setup, the agent).
 */
export async function copyIntoCheckout(sourceDir: string, checkout: string, paths: readonly string[]): Promise<CopyResult> {
  const problems = paths.flatMap((path) => {
    const problem = relativePathProblem(path);
    return problem ? [`cannot copy '${path}': ${problem}`] : [];
  });
  if (problems.length > 0) throw new CookError("invalid", problems.join("; "));

  const source = await realFolder(sourceDir, "the folder to copy from");
  const target = await realFolder(checkout, "the checkout");
  const result: CopyResult = { copied: [], missing: [] };
  const plans: Array<{ path: string; steps: CopyStep[] }> = [];
  for (const path of paths) {
    const steps = await planPath(source, path, result.missing);
    if (steps) plans.push({ path, steps });
  }
  for (const { steps } of plans) {
    for (const step of steps) await checkTarget(target, step);
  }

  for (const { path, steps } of plans) {
    for (const step of steps) {
      if (step.kind === "dir") await checkoutFolder(target, step.to, step.to, true);
      else await copyOneFile(target, step);
    }
    // A folder gets its mode after its contents are in: a read-only source folder must not stop the copy into it.
    for (const step of [...steps].reverse()) {
      if (step.kind === "dir") await chmod(await checkoutFolder(target, step.to, step.to, false), step.mode & 0o777);
    }
    result.copied.push(path);
  }
  return result;
}

async function realFolder(dir: string, what: string): Promise<string> {
  const real = await ifExists(realpath(dir));
  if (real !== undefined && (await stat(real)).isDirectory()) return real;
  throw new CookError("invalid", `cannot copy files: ${what} (${dir}) is not a folder`);
}

/** The steps that copy one requested path, or undefined (recorded in `missing`) when the source has nothing there. */
async function planPath(source: string, path: string, missing: string[]): Promise<CopyStep[] | undefined> {
  const parent = await ifExists(realpath(join(source, dirname(path))));
  if (parent === undefined) return missed(missing, path);
  if (!isInside(source, parent)) throw leavesSource(path);
  const steps: CopyStep[] = [];
  const found = await planEntry(source, join(parent, basename(path)), path, [], steps, missing);
  return found ? steps : missed(missing, path);
}

async function planEntry(source: string, entry: string, to: string, open: string[], steps: CopyStep[], missing: string[]): Promise<boolean> {
  let real = entry;
  let info = await ifExists(lstat(entry));
  if (!info) return false;
  if (info.isSymbolicLink()) {
    // A symlink is copied as what it points to, which must be inside the source folder: the server's
    // files outside it (its config, its keys) must not reach a checkout by way of a link.
    const target = await ifExists(realpath(entry));
    if (target === undefined) return false;
    real = target;
    if (!isInside(source, real)) throw leavesSource(to);
    info = await stat(real);
  }
  const problem = relativePathProblem(to);
  if (problem) throw new CookError("invalid", `cannot copy '${to}': ${problem}`);
  if (info.isFile()) {
    steps.push({ kind: "file", from: real, to, mode: info.mode });
    return true;
  }
  if (!info.isDirectory()) throw new CookError("invalid", `cannot copy '${to}': it is not a file, a folder or a symlink`);
  if (open.includes(real)) throw new CookError("invalid", `cannot copy '${to}': it is a symlink to a folder that contains it`);
  steps.push({ kind: "dir", from: real, to, mode: info.mode });
  for (const name of (await readdir(real)).sort()) {
    const found = await planEntry(source, join(real, name), `${to}/${name}`, [...open, real], steps, missing);
    if (!found) missing.push(`${to}/${name}`);
  }
  return true;
}

/**
 * The real path of the checkout folder `rel` (`.` is the checkout itself), following symlinks only
 * while they stay inside the checkout and out of .git; with `create`, missing folders are made.
 * Without it, a folder that does not exist yet ends the walk (nothing below it can be a symlink).
 */
async function checkoutFolder(root: string, rel: string, path: string, create: boolean): Promise<string> {
  let current = root;
  const segments = rel === "." ? [] : rel.split("/");
  for (const [index, segment] of segments.entries()) {
    const shown = segments.slice(0, index + 1).join("/");
    const next = join(current, segment);
    const info = await ifExists(lstat(next));
    if (!info) {
      if (!create) return next;
      await mkdir(next);
      current = next;
      continue;
    }
    if (info.isSymbolicLink()) {
      const real = await ifExists(realpath(next));
      if (real === undefined) throw new CookError("invalid", `cannot copy '${path}' into the checkout: '${shown}' there is a symlink to nothing`);
      if (!isInside(root, real) || hasGitSegment(relative(root, real))) {
        throw new CookError("invalid", `cannot copy '${path}' into the checkout: '${shown}' there is a symlink that leads out of the checkout or into .git`);
      }
      if (!(await stat(real)).isDirectory()) throw notAFolder(path, shown);
      current = real;
    } else if (info.isDirectory()) {
      current = next;
    } else {
      throw notAFolder(path, shown);
    }
  }
  return current;
}

/** Refuses, before anything is written, a step that copyOneFile or checkoutFolder would refuse half-way. */
async function checkTarget(root: string, step: CopyStep): Promise<void> {
  if (step.kind === "dir") {
    await checkoutFolder(root, step.to, step.to, false);
    return;
  }
  const folder = await checkoutFolder(root, dirname(step.to), step.to, false);
  await refuseFolderAt(join(folder, basename(step.to)), step.to);
}

async function refuseFolderAt(destination: string, path: string): Promise<void> {
  const existing = await ifExists(lstat(destination));
  if (existing?.isDirectory()) throw new CookError("invalid", `cannot copy '${path}' into the checkout: it is a folder there`);
}

/** Writes a temporary file beside the target, then renames it over: a symlink at the target is replaced, never written through. */
async function copyOneFile(root: string, step: CopyStep): Promise<void> {
  const folder = await checkoutFolder(root, dirname(step.to), step.to, true);
  const destination = join(folder, basename(step.to));
  await refuseFolderAt(destination, step.to);
  const temporary = join(folder, `.cook-copy-${randomBytes(6).toString("hex")}`);
  try {
    await copyFile(step.from, temporary, constants.COPYFILE_EXCL);
    await chmod(temporary, step.mode & 0o777);
    await rename(temporary, destination);
  } catch (err) {
    await unlink(temporary).catch(() => {});
    throw err;
  }
}

function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

function hasGitSegment(rel: string): boolean {
  return rel.split(sep).some((segment) => segment.toLowerCase() === ".git");
}

/** The promised value, or undefined when the path (or a folder on it) does not exist. */
async function ifExists<T>(pending: Promise<T>): Promise<T | undefined> {
  try {
    return await pending;
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR";
}

function missed(missing: string[], path: string): undefined {
  missing.push(path);
  return undefined;
}

function leavesSource(path: string): CookError {
  return new CookError("invalid", `cannot copy '${path}': a symlink leads it out of the folder it is copied from`);
}

function notAFolder(path: string, shown: string): CookError {
  return new CookError("invalid", `cannot copy '${path}' into the checkout: '${shown}' there is not a folder`);
}
