import type { Readable } from "node:stream";
import { CookError } from "../core/errors.js";
import { isValidBranchName } from "../core/names.js";
import type { Git } from "../git/git.js";
import { looksBinary, parseCommit, parseTree, type Commit, type TreeEntry } from "../git/objects.js";
import { headBranch, listRefs, type Ref } from "../git/refs.js";
import { requireRepo } from "./repos.js";

export interface BrowseDeps {
  dataDir: string;
  git: Git;
}

/** A position in a repo: a ref (or commit), the commit it names, and a path under it. */
export interface Location {
  repo: string;
  /** What the user named: a branch, a tag or a commit id. */
  ref: string;
  commit: string;
  path: string;
}

function cleanPath(path: string): string {
  const parts = path.split("/").filter((part) => part !== "");
  if (parts.some((part) => part === "." || part === ".." || /[\0\r\n]/.test(part))) throw new CookError("not_found", `no such path: ${path}`);
  return parts.join("/");
}

/**
 * Splits `feature/login/src/app.ts` into ref and path. Branch names contain `/`, so the longest
 * branch or tag that is a prefix wins; failing that, a leading commit id.
 */
export async function resolveLocation(deps: BrowseDeps, repo: string, refAndPath: string): Promise<Location> {
  const reader = deps.git.reader(requireRepo(deps.dataDir, repo));
  const segments = refAndPath.split("/");
  for (let take = segments.length; take > 0; take--) {
    const candidate = segments.slice(0, take).join("/");
    // Only names git accepts as refs reach cat-file: `:`, `^` or `~` would make them expressions.
    if (!isValidBranchName(candidate)) continue;
    for (const prefix of ["refs/heads/", "refs/tags/"]) {
      const info = await reader.info(`${prefix}${candidate}^{commit}`);
      if (info) return { repo, ref: candidate, commit: info.sha, path: cleanPath(segments.slice(take).join("/")) };
    }
  }
  const first = segments[0] ?? "";
  if (/^[0-9a-f]{7,40}$/.test(first)) {
    const info = await reader.info(`${first}^{commit}`);
    if (info) return { repo, ref: first, commit: info.sha, path: cleanPath(segments.slice(1).join("/")) };
  }
  throw new CookError("not_found", `no branch, tag or commit '${first}' in ${repo}`);
}

export async function defaultLocation(deps: BrowseDeps, repo: string): Promise<Location | undefined> {
  const gitDir = requireRepo(deps.dataDir, repo);
  const branch = await headBranch(deps.git, gitDir);
  const info = await deps.git.reader(gitDir).info(`refs/heads/${branch}^{commit}`);
  return info ? { repo, ref: branch, commit: info.sha, path: "" } : undefined;
}

export interface TreeListing {
  entries: TreeEntry[];
}

/** Folders first, then files, each by name. */
export async function readTreeAt(deps: BrowseDeps, at: Location): Promise<TreeListing> {
  const reader = deps.git.reader(requireRepo(deps.dataDir, at.repo));
  const object = await reader.read(at.path ? `${at.commit}:${at.path}` : `${at.commit}^{tree}`);
  if (!object) throw new CookError("not_found", `no such path: ${at.path}`);
  if (object.type !== "tree") throw new CookError("not_found", `${at.path} is a file, not a folder`);
  const entries = parseTree(object.content).sort((a, b) => (a.type === "tree") !== (b.type === "tree") ? (a.type === "tree" ? -1 : 1) : a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return { entries };
}

export interface Blob {
  size: number;
  /** Whether the first 8000 bytes hold a NUL (git's rule); false when the content was not read. */
  binary: boolean;
  /** Undefined when the blob is larger than the caller's limit: it was never read. */
  content: Buffer | undefined;
}

/** The blob at a location, by `info` alone: its id and size, without reading it. Throws not_found. */
async function statBlobAt(deps: BrowseDeps, at: Location): Promise<{ sha: string; size: number }> {
  const reader = deps.git.reader(requireRepo(deps.dataDir, at.repo));
  const info = at.path ? await reader.info(`${at.commit}:${at.path}`) : undefined;
  if (!info) throw new CookError("not_found", `no such file: ${at.path || "(root)"}`);
  if (info.type !== "blob") throw new CookError("not_found", `${at.path} is a folder, not a file`);
  return info;
}

/** A blob's content when it is at most `maxBytes`; a larger one is sized by `info` and never read. */
async function readBlobUnder(deps: BrowseDeps, repo: string, sha: string, size: number, maxBytes: number): Promise<Blob> {
  if (size > maxBytes) return { size, binary: false, content: undefined };
  const object = await deps.git.reader(requireRepo(deps.dataDir, repo)).read(sha);
  if (!object) throw new CookError("not_found", `blob ${sha} is gone from ${repo}`);
  return { size, binary: looksBinary(object.content), content: object.content };
}

/** The file at a location; its content only when it is at most `maxBytes` (the page shows no more). */
export async function readBlobAt(deps: BrowseDeps, at: Location, maxBytes: number): Promise<Blob> {
  const { sha, size } = await statBlobAt(deps, at);
  return readBlobUnder(deps, at.repo, sha, size, maxBytes);
}

export interface RawBlob {
  size: number;
  binary: boolean;
  /** The content, from a git process of its own; destroy it to stop (see git/blob-stream.ts). */
  stream: Readable;
}

/** The file at a location as a stream, for downloads of any size; binary is judged on the first 8000 bytes. */
export async function openRawBlobAt(deps: BrowseDeps, at: Location): Promise<RawBlob> {
  const { sha, size } = await statBlobAt(deps, at);
  const { head, stream } = await deps.git.streamBlob(requireRepo(deps.dataDir, at.repo), sha, 8000);
  return { size, binary: looksBinary(head), stream };
}

const readmeNames = /^readme(\.(md|markdown|txt|rst))?$/i;

/** The README at the root of a commit, if any (markdown preferred); `text` is undefined when it is over `maxBytes`. */
export async function readReadme(deps: BrowseDeps, at: Location, maxBytes: number): Promise<{ name: string; size: number; text: string | undefined } | undefined> {
  const { entries } = await readTreeAt(deps, { ...at, path: "" });
  const candidates = entries.filter((e) => e.type === "blob" && readmeNames.test(e.name)).sort((a, b) => Number(/\.(md|markdown)$/i.test(b.name)) - Number(/\.(md|markdown)$/i.test(a.name)));
  const chosen = candidates[0];
  if (!chosen) return undefined;
  const info = await deps.git.reader(requireRepo(deps.dataDir, at.repo)).info(chosen.sha);
  if (!info) return undefined;
  const blob = await readBlobUnder(deps, at.repo, chosen.sha, info.size, maxBytes);
  return { name: chosen.name, size: info.size, text: blob.content?.toString("utf8") };
}

export async function readCommit(deps: BrowseDeps, repo: string, sha: string): Promise<Commit> {
  if (!/^[0-9a-f]{4,40}$/.test(sha)) throw new CookError("not_found", `no commit '${sha}' in ${repo}`);
  const object = await deps.git.reader(requireRepo(deps.dataDir, repo)).read(`${sha}^{commit}`);
  if (!object) throw new CookError("not_found", `no commit '${sha}' in ${repo}`);
  return parseCommit(object.sha, object.content);
}

export interface LogPage {
  commits: Commit[];
  hasMore: boolean;
}

/** One page of history: a single `git rev-list` for the ids, then the commits through cat-file. */
export async function readLog(deps: BrowseDeps, at: Location, page: number, perPage = 50): Promise<LogPage> {
  const gitDir = requireRepo(deps.dataDir, at.repo);
  const args = ["rev-list", `--max-count=${perPage + 1}`, `--skip=${page * perPage}`, at.commit, "--", ...(at.path ? [at.path] : [])];
  const ids = (await deps.git.text(gitDir, args)).split("\n").filter(Boolean);
  const reader = deps.git.reader(gitDir);
  const commits = await Promise.all(ids.slice(0, perPage).map(async (id) => parseCommit(id, (await reader.read(id))!.content)));
  return { commits, hasMore: ids.length > perPage };
}

export interface FileDiff {
  oldPath: string;
  newPath: string;
  status: "added" | "deleted" | "modified" | "renamed";
  binary: boolean;
  lines: Array<{ kind: "hunk" | "add" | "del" | "ctx"; text: string; oldLine?: number; newLine?: number }>;
}

export interface CommitDiff {
  files: FileDiff[];
  truncated: boolean;
}

const maxDiffBytes = 2 * 1024 * 1024;

function unquote(path: string): string {
  return path.startsWith('"') ? (JSON.parse(path) as string) : path;
}

/** The change a commit made against its first parent (or against nothing, for a root commit). */
export async function readCommitDiff(deps: BrowseDeps, repo: string, commit: Commit): Promise<CommitDiff> {
  const gitDir = requireRepo(deps.dataDir, repo);
  const base = commit.parents[0];
  const args = base ? ["diff-tree", "-p", "-M", "--no-color", base, commit.sha] : ["diff-tree", "-p", "-M", "--no-color", "--root", commit.sha];
  const out = (await deps.git.run(gitDir, args)).stdout;
  const truncated = out.length > maxDiffBytes;
  const files: FileDiff[] = [];
  let file: FileDiff | undefined;
  let oldLine = 0;
  let newLine = 0;
  for (const line of out.subarray(0, maxDiffBytes).toString("utf8").split("\n")) {
    const header = /^diff --git (\S+|"[^"]+") (\S+|"[^"]+")$/.exec(line);
    if (header) {
      file = { oldPath: unquote(header[1]!).slice(2), newPath: unquote(header[2]!).slice(2), status: "modified", binary: false, lines: [] };
      files.push(file);
      continue;
    }
    if (!file) continue;
    if (line.startsWith("new file mode")) file.status = "added";
    else if (line.startsWith("deleted file mode")) file.status = "deleted";
    else if (line.startsWith("rename from")) file.status = "renamed";
    else if (line.startsWith("Binary files")) file.binary = true;
    else if (line.startsWith("@@")) {
      const numbers = /^@@ -(\d+)(?:,\d+)? \+(\d+)/.exec(line);
      oldLine = Number(numbers?.[1] ?? 0);
      newLine = Number(numbers?.[2] ?? 0);
      file.lines.push({ kind: "hunk", text: line });
    } else if (file.lines.length > 0) {
      if (line.startsWith("+")) file.lines.push({ kind: "add", text: line.slice(1), newLine: newLine++ });
      else if (line.startsWith("-")) file.lines.push({ kind: "del", text: line.slice(1), oldLine: oldLine++ });
      else if (line.startsWith(" ")) file.lines.push({ kind: "ctx", text: line.slice(1), oldLine: oldLine++, newLine: newLine++ });
    }
  }
  return { files, truncated };
}

export async function listBranchesAndTags(deps: BrowseDeps, repo: string): Promise<{ branches: Ref[]; tags: Ref[]; defaultBranch: string }> {
  const gitDir = requireRepo(deps.dataDir, repo);
  const [refs, defaultBranch] = await Promise.all([listRefs(deps.git, gitDir), headBranch(deps.git, gitDir)]);
  return {
    branches: refs.filter((r) => r.name.startsWith("refs/heads/")),
    tags: refs.filter((r) => r.name.startsWith("refs/tags/")),
    defaultBranch,
  };
}
