import type { Readable } from "node:stream";
import { CookError } from "../core/errors.js";
import { isValidBranchName } from "../core/names.js";
import type { CatFile, ObjectInfo } from "../git/cat-file.js";
import type { Git } from "../git/git.js";
import { encodeGitText, isUtf8GitText } from "../git/git-text.js";
import { looksBinary, parseCommit, parseTree, type Commit, type TreeEntry } from "../git/objects.js";
import { listRefs, readHead, type Ref } from "../git/refs.js";
import { requireRepo } from "./repos.js";

export interface BrowseDeps {
  dataDir: string;
  git: Git;
}

/** A position in a repo: a ref (or commit), the object it names, and a path under it. */
export interface Location {
  repo: string;
  /** What the user named: a branch, a tag or an object id. */
  ref: string;
  /** The commit the ref names; undefined for a tag of a tree or a blob, which has no history. */
  commit: string | undefined;
  /** What paths are looked up in: the commit's root tree, or the tree or blob a tag names. */
  root: string;
  /** A git-text string (see git/git-text.ts): names that are not UTF-8 keep their bytes. */
  path: string;
}

function cleanPath(path: string): string {
  const parts = path.split("/").filter((part) => part !== "");
  // A tree entry may be named with any byte but NUL and `/`; `.` and `..` never name an entry.
  if (parts.some((part) => part === "." || part === ".." || part.includes("\0"))) throw new CookError("not_found", `no such path: ${path}`);
  return parts.join("/");
}

/** Where a ref, a tag of any depth or an object id leads: a commit, or (for some tags) a tree or a blob. */
async function locate(reader: CatFile, rev: string): Promise<Pick<Location, "commit" | "root"> | undefined> {
  const target = await reader.info(`${rev}^{}`);
  if (target?.type === "commit") {
    const tree = await reader.info(`${target.sha}^{tree}`);
    return tree && { commit: target.sha, root: tree.sha };
  }
  return target?.type === "tree" || target?.type === "blob" ? { commit: undefined, root: target.sha } : undefined;
}

/**
 * Splits `feature/login/src/app.ts` into ref and path. Branch names contain `/`, so the longest
 * branch or tag that is a prefix wins; failing that, a leading object id.
 */
export async function resolveLocation(deps: BrowseDeps, repo: string, refAndPath: string): Promise<Location> {
  const reader = deps.git.reader(requireRepo(deps.dataDir, repo));
  const segments = refAndPath.split("/");
  for (let take = segments.length; take > 0; take--) {
    const candidate = segments.slice(0, take).join("/");
    // Only names git accepts as refs reach cat-file: `:`, `^` or `~` would make them expressions.
    if (!isValidBranchName(candidate)) continue;
    for (const prefix of ["refs/heads/", "refs/tags/"]) {
      const found = await locate(reader, `${prefix}${candidate}`);
      if (found) return { repo, ref: candidate, ...found, path: cleanPath(segments.slice(take).join("/")) };
    }
  }
  const first = segments[0] ?? "";
  if (/^[0-9a-f]{7,40}$/.test(first)) {
    const found = await locate(reader, first);
    if (found) return { repo, ref: first, ...found, path: cleanPath(segments.slice(1).join("/")) };
  }
  throw new CookError("not_found", `no branch, tag or commit '${first}' in ${repo}`);
}

/**
 * Where HEAD is: the tip of the default branch, or the commit a detached HEAD holds; undefined
 * while the default branch does not exist (an empty repo, or only other refs).
 */
export async function defaultLocation(deps: BrowseDeps, repo: string): Promise<Location | undefined> {
  const gitDir = requireRepo(deps.dataDir, repo);
  const head = await readHead(deps.git, gitDir);
  const reader = deps.git.reader(gitDir);
  const commit = head.branch !== undefined ? await reader.info(`refs/heads/${head.branch}^{commit}`) : head.detached && (await reader.info(`${head.detached}^{commit}`));
  const tree = commit && (await reader.info(`${commit.sha}^{tree}`));
  return commit && tree ? { repo, ref: head.branch ?? commit.sha, commit: commit.sha, root: tree.sha, path: "" } : undefined;
}

/**
 * The object at a location's path: one `<root>:<path>` lookup, whatever bytes the path holds.
 * cat-file reads a command a line, though, and drops a carriage return before the newline, so a
 * name with either in it is found by walking the trees entry by entry instead.
 */
async function objectAt(reader: CatFile, at: Location): Promise<ObjectInfo | undefined> {
  if (!/[\r\n]/.test(at.path)) return reader.info(at.path ? `${at.root}:${at.path}` : at.root);
  let object = await reader.info(at.root);
  for (const name of at.path ? at.path.split("/") : []) {
    if (object?.type !== "tree") return undefined;
    const tree = await reader.read(object.sha);
    const entry = tree && parseTree(tree.content).find((e) => e.name === name);
    if (!entry || entry.type === "commit") return undefined;
    object = await reader.info(entry.sha);
  }
  return object;
}

export interface TreeListing {
  entries: TreeEntry[];
}

/** Folders first, then files, each by name. */
export async function readTreeAt(deps: BrowseDeps, at: Location): Promise<TreeListing> {
  const reader = deps.git.reader(requireRepo(deps.dataDir, at.repo));
  const found = await objectAt(reader, at);
  if (!found) throw new CookError("not_found", `no such path: ${at.path}`);
  if (found.type !== "tree") throw new CookError("not_found", `${at.path || at.ref} is a file, not a folder`);
  const object = await reader.read(found.sha);
  if (!object) throw new CookError("not_found", `no such path: ${at.path}`);
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
  const found = await objectAt(reader, at);
  if (!found) throw new CookError("not_found", `no such file: ${at.path || "(root)"}`);
  if (found.type !== "blob") throw new CookError("not_found", `${at.path || at.ref} is a folder, not a file`);
  return found;
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

/**
 * How git is told which path's history to list: `--literal-pathspecs` so `*` or `:` in a name is
 * only that character; as an argument when the path is UTF-8 (arguments are strings, sent as
 * UTF-8), else on `rev-list --stdin`, which reads one path a line. A path that is not UTF-8 and
 * has a line break fits neither: undefined.
 */
function pathspecOf(path: string): { args: string[]; input?: Buffer } | undefined {
  if (!path) return { args: [] };
  if (isUtf8GitText(path)) return { args: ["--", path] };
  if (/[\r\n]/.test(path)) return undefined;
  return { args: ["--stdin"], input: Buffer.concat([Buffer.from("--\n"), encodeGitText(path), Buffer.from("\n")]) };
}

/** Whether readLog can list the history at a location (tags of trees and blobs have none). */
export function hasHistory(at: Location): boolean {
  return at.commit !== undefined && pathspecOf(at.path) !== undefined;
}

/** One page of history: a single `git rev-list` for the ids, then the commits through cat-file. */
export async function readLog(deps: BrowseDeps, at: Location, page: number, perPage = 50): Promise<LogPage> {
  const gitDir = requireRepo(deps.dataDir, at.repo);
  if (!at.commit) throw new CookError("not_found", `${at.ref} names a ${await objectTypeAt(deps, at)}, not a commit: it has no history`);
  const spec = pathspecOf(at.path);
  if (!spec) throw new CookError("invalid", "git cannot list the history of a path that is not UTF-8 and has a line break in it");
  const args = ["--literal-pathspecs", "rev-list", `--max-count=${perPage + 1}`, `--skip=${page * perPage}`, at.commit, ...spec.args];
  // at.commit is a full sha here (resolved from the ref), so the answer can be remembered.
  const ids = (await deps.git.immutableText(gitDir, args, { input: spec.input })).split("\n").filter(Boolean);
  const reader = deps.git.reader(gitDir);
  const commits = await Promise.all(ids.slice(0, perPage).map(async (id) => parseCommit(id, (await reader.read(id))!.content)));
  return { commits, hasMore: ids.length > perPage };
}

async function objectTypeAt(deps: BrowseDeps, at: Location): Promise<string> {
  return (await deps.git.reader(requireRepo(deps.dataDir, at.repo)).info(at.root))?.type ?? "missing object";
}

/** Ref subjects from for-each-ref are the raw bytes; only plain ASCII reads the same in every encoding a commit may declare. */
const plainText = /^[\x20-\x7e\t]*$/;

/**
 * Peels what for-each-ref left half done: a tag of a tag to the object at the end of the chain,
 * and a subject in a legacy encoding to the text `git log` shows (read through the commit).
 */
async function completeRef(reader: CatFile, ref: Ref): Promise<Ref> {
  let { target, commit } = ref;
  if (target.type === "tag") {
    const peeled = await reader.info(`${ref.sha}^{}`);
    if (!peeled) return ref;
    target = { type: peeled.type, sha: peeled.sha };
    commit = peeled.type === "commit" ? peeled.sha : undefined;
  } else if (!commit || plainText.test(ref.subject)) {
    return ref;
  }
  const object = commit ? await reader.read(commit) : undefined;
  if (!object) return { ...ref, target, commit };
  const parsed = parseCommit(object.sha, object.content);
  return { ...ref, target, commit, committedAt: parsed.committer.date, subject: parsed.message.split("\n", 1)[0]! };
}

export interface RefListing {
  branches: Ref[];
  tags: Ref[];
  /** The branch HEAD names; undefined when HEAD is detached. */
  defaultBranch: string | undefined;
  /** Whether the default branch exists: HEAD may name a branch nobody has pushed yet. */
  defaultBranchExists: boolean;
  /** The commit a detached HEAD holds. */
  detachedHead: string | undefined;
}

export async function listBranchesAndTags(deps: BrowseDeps, repo: string): Promise<RefListing> {
  const gitDir = requireRepo(deps.dataDir, repo);
  const [refs, head] = await Promise.all([listRefs(deps.git, gitDir), readHead(deps.git, gitDir)]);
  const defaultBranch = head.branch;
  const reader = deps.git.reader(gitDir);
  const complete = await Promise.all(refs.map((ref) => completeRef(reader, ref)));
  const branches = complete.filter((r) => r.name.startsWith("refs/heads/"));
  return {
    branches,
    tags: complete.filter((r) => r.name.startsWith("refs/tags/")),
    defaultBranch,
    defaultBranchExists: branches.some((b) => b.short === defaultBranch),
    detachedHead: head.branch === undefined ? head.detached : undefined,
  };
}
