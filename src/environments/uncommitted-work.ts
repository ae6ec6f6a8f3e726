import { constants } from "node:fs";
import { lstat, open, readlink, realpath } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Branch, Environment } from "../core/branch.js";
import { CookError } from "../core/errors.js";
import { diffOptions, maxPatchBytes, type PatchOutput } from "../forge/parse-diff.js";
import { decodeGitText } from "../git/git-text.js";
import { processIn } from "./context.js";
import type { EnvironmentDeps } from "./deps.js";
import { runCommand } from "./run-command.js";

/** An untracked file, to be shown as added: its bytes (and mode: a symlink's are its target), or why they are not shown. */
export type UntrackedFile = { path: string; mode: "100644" | "120000"; content: Buffer } | { path: string; note: string };

/** The work in an environment's checkout that no commit holds yet. */
export interface UncommittedWork {
  /** What the checkout's HEAD is at; may differ from the forge's branch head (commits not pushed, or pushed from elsewhere). */
  checkoutHead: string | undefined;
  /** `git diff --cached`: in the index, not committed. */
  staged: PatchOutput;
  /** `git diff`: in the work tree, not in the index. */
  unstaged: PatchOutput;
  /** The first `maxUntrackedListed` untracked files (ignored ones are not), content shown for some. */
  untracked: UntrackedFile[];
  untrackedCount: number;
  /** Whether git's output was cut (more files than fit) or git took too long. */
  incomplete: boolean;
}

/** Limits that keep one page of uncommitted work bounded, like a commit page (commit-diff.ts). */
export const uncommittedLimits = {
  /** Untracked files listed by name. */
  maxUntrackedListed: 200,
  /** Untracked files whose content is shown. */
  maxUntrackedShown: 50,
  /** An untracked file larger than this is listed without its content. */
  maxUntrackedBytes: 256 * 1024,
  /** Content of all untracked files together. */
  maxUntrackedTotalBytes: 1024 * 1024,
  /** Rows of all untracked files together (a 256 KiB file of empty lines is 262,144 rows); applied where they are rendered. */
  maxUntrackedLines: 10_000,
  /** `git status` output read (a path per line; an unignored node_modules lists many). */
  maxStatusBytes: 1024 * 1024,
  /** A git command that takes longer is stopped and the page says the listing is incomplete. */
  timeoutMs: 10_000,
} as const;

// The checkout's own config (.git/config) is written by whatever works in the environment. A git
// that reads the work tree must not run what that config names: fsmonitor hooks and external diff
// or textconv tools are turned off here; filter drivers named by .gitattributes may still run, and
// that is why these commands go through the environment's backend (inside the sandbox for a
// sandbox environment), never as the server's own process. Output settings that would change
// what parseDiff reads (prefixes, colour, relative paths) are pinned.
const safeOptions = [
  "-c", "core.fsmonitor=false",
  "-c", "color.ui=false",
  "-c", "diff.noprefix=false",
  "-c", "diff.mnemonicPrefix=false",
  "-c", "diff.relative=false",
  "-c", "diff.suppressBlankEmpty=false",
];

// Reads only: GIT_OPTIONAL_LOCKS=0 keeps `git status` from refreshing the index, which would take
// its lock while an agent commits. The host's and the user's git config are not the checkout's business.
const readOnlyGitVariables = { GIT_OPTIONAL_LOCKS: "0", GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", GIT_TERMINAL_PROMPT: "0", GIT_PAGER: "cat", LC_ALL: "C" };

interface GitOutput {
  out: Buffer;
  /** false: the output was cut at the limit or the command was stopped. */
  complete: boolean;
}

async function gitIn(deps: Pick<EnvironmentDeps, "factory" | "dataDir">, branch: Branch, environment: Environment, args: string[], maxBytes: number): Promise<GitOutput> {
  const spec = processIn(deps, branch, environment, ["git", ...safeOptions, ...args]);
  const env = Object.fromEntries(Object.entries(spec.env).filter(([key]) => !key.startsWith("GIT_")));
  const chunks: Buffer[] = [];
  let size = 0;
  let complete = true;
  let stderr = "";
  const stop = new AbortController();
  const timer = setTimeout(() => {
    complete = false;
    stop.abort();
  }, uncommittedLimits.timeoutMs);
  const code = await runCommand(
    { ...spec, env: { ...env, ...readOnlyGitVariables } },
    {
      stdout: (chunk) => {
        if (!complete) return;
        chunks.push(chunk);
        size += chunk.length;
        if (size > maxBytes) {
          complete = false;
          stop.abort();
        }
      },
      stderr: (chunk) => void (stderr = (stderr + chunk.toString("utf8")).slice(-2000)),
    },
    stop.signal,
  ).finally(() => clearTimeout(timer));
  if (complete && code !== 0) throw new CookError("unavailable", `git ${args[0]} failed in the checkout: ${stderr.trim().split("\n").pop() || `exit code ${code}`}`);
  return { out: Buffer.concat(chunks).subarray(0, maxBytes), complete };
}

/**
 * Reads what the checkout of a live environment holds beyond its HEAD: staged and unstaged changes
 * (as diffs), untracked files (shown as added, bounded by uncommittedLimits). The git commands run
 * through the environment's backend, so a sandboxed checkout is read inside its sandbox; untracked
 * files are read by the server only if they really are regular files inside the checkout (see
 * readUntracked). Throws unavailable when git cannot read the checkout.
 */
export async function readUncommittedWork(deps: Pick<EnvironmentDeps, "factory" | "dataDir">, branch: Branch, environment: Environment): Promise<UncommittedWork> {
  const diff = ["diff", ...diffOptions, "-M", "--ignore-submodules=all"];
  const [status, unstaged, staged] = await Promise.all([
    gitIn(deps, branch, environment, ["status", "--porcelain=v2", "-z", "--branch", "--untracked-files=all", "--ignore-submodules=all", "--no-renames"], uncommittedLimits.maxStatusBytes),
    gitIn(deps, branch, environment, diff, maxPatchBytes + 256 * 1024),
    gitIn(deps, branch, environment, [...diff, "--cached"], maxPatchBytes + 256 * 1024),
  ]);
  const { head, untrackedPaths } = parseStatus(status.out);
  return {
    checkoutHead: head,
    staged: { patch: staged.out, complete: staged.complete },
    unstaged: { patch: unstaged.out, complete: unstaged.complete },
    untracked: await readUntracked(environment.path, untrackedPaths.slice(0, uncommittedLimits.maxUntrackedListed)),
    untrackedCount: untrackedPaths.length,
    incomplete: !status.complete,
  };
}

/** `git status --porcelain=v2 -z --branch` (git-status(1), "Porcelain Format Version 2"): the HEAD commit and the untracked paths. */
export function parseStatus(out: Buffer): { head: string | undefined; untrackedPaths: string[] } {
  let head: string | undefined;
  const untrackedPaths: string[] = [];
  for (let at = 0; at < out.length; ) {
    const nul = out.indexOf(0, at);
    // A record cut by the output limit has no NUL: it is dropped rather than shown half.
    if (nul < 0) break;
    const record = out.subarray(at, nul);
    at = nul + 1;
    if (record[0] === 0x3f /* "?" */ && record[1] === 0x20) untrackedPaths.push(decodeGitText(record.subarray(2)));
    else if (record.subarray(0, 13).toString("latin1") === "# branch.oid ") {
      const oid = record.subarray(13).toString("latin1");
      head = /^[0-9a-f]{40,64}$/.test(oid) ? oid : undefined;
    }
  }
  return { head, untrackedPaths };
}

/**
 * The untracked files with their content, to be shown as added files. Whatever works in the
 * environment made these names, and in a sandbox it cannot read the server's files, so they are
 * opened without following a symlink (O_NOFOLLOW), FIFOs never wait (O_NONBLOCK), and what was
 * opened is checked to be a regular file inside the checkout (its /proc/self/fd link), so a folder
 * swapped for a symlink after `git status` cannot show the server's files on this page. A symlink is
 * shown as git shows one: its target, as text.
 */
async function readUntracked(checkout: string, paths: string[]): Promise<UntrackedFile[]> {
  const root = await realpath(checkout);
  const files: UntrackedFile[] = [];
  let bytes = 0;
  for (const [index, path] of paths.entries()) {
    if (index >= uncommittedLimits.maxUntrackedShown || bytes >= uncommittedLimits.maxUntrackedTotalBytes) {
      files.push({ path, note: "not shown: the page shows the content of the first untracked files only" });
      continue;
    }
    const read = await readCheckoutFile(root, path);
    if (read.kind === "note") {
      files.push({ path, note: read.note });
      continue;
    }
    bytes += read.content.length;
    files.push({ path, mode: read.kind === "symlink" ? "120000" : "100644", content: read.content });
  }
  return files;
}

type CheckoutFile = { kind: "file" | "symlink"; content: Buffer } | { kind: "note"; note: string };

async function readCheckoutFile(root: string, path: string): Promise<CheckoutFile> {
  const full = join(root, path);
  let handle;
  try {
    handle = await open(full, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ELOOP") {
      // The link's own text, never what it points at.
      const inside = await realpath(dirname(full)).then((parent) => parent === root || parent.startsWith(`${root}/`), () => false);
      const stat = inside ? await lstat(full).catch(() => undefined) : undefined;
      if (stat?.isSymbolicLink()) return { kind: "symlink", content: Buffer.from(await readlink(full, { encoding: "buffer" })) };
    }
    return { kind: "note", note: code === "ENOENT" ? "gone since git listed it" : `cannot be read (${code ?? "error"})` };
  }
  try {
    const opened = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => "");
    if (!opened.startsWith(`${root}/`)) return { kind: "note", note: "not shown: it is not inside the checkout" };
    const stat = await handle.stat();
    if (!stat.isFile()) return { kind: "note", note: "not shown: not a regular file" };
    if (stat.size > uncommittedLimits.maxUntrackedBytes) return { kind: "note", note: `not shown: ${stat.size} bytes is over the ${uncommittedLimits.maxUntrackedBytes / 1024} KiB shown of an untracked file` };
    const content = Buffer.alloc(stat.size);
    const { bytesRead } = await handle.read(content, 0, stat.size, 0);
    return { kind: "file", content: content.subarray(0, bytesRead) };
  } finally {
    await handle.close();
  }
}
