import type { Commit } from "../git/objects.js";
import { decodeGitText } from "../git/git-text.js";
import type { BrowseDeps } from "./browse.js";
import { requireRepo } from "./repos.js";

export interface FileDiff {
  /** Git-text strings (see git/git-text.ts), exactly the bytes of the names in the trees. */
  oldPath: string;
  newPath: string;
  /** Modes as git prints them: 100644, 100755, 120000 (symlink), 160000 (submodule), 000000 (absent). */
  oldMode: string;
  newMode: string;
  status: "added" | "deleted" | "modified" | "renamed";
  binary: boolean;
  lines: Array<{ kind: "hunk" | "add" | "del" | "ctx"; text: string; oldLine?: number; newLine?: number }>;
}

export interface CommitDiff {
  files: FileDiff[];
  truncated: boolean;
}

const maxPatchBytes = 2 * 1024 * 1024;

const statuses: Record<string, FileDiff["status"]> = { A: "added", D: "deleted", R: "renamed" };

/**
 * The file list of `--raw -z`: `:<old mode> <new mode> <old sha> <new sha> <status>NUL<path>NUL`,
 * with a second path for a rename. Paths are raw bytes, never quoted. Returns where the records end.
 */
function parseRawRecords(out: Buffer): { files: FileDiff[]; end: number } {
  const files: FileDiff[] = [];
  let at = 0;
  const field = () => {
    const nul = out.indexOf(0, at);
    const end = nul < 0 ? out.length : nul;
    const value = out.subarray(at, end);
    at = end + 1;
    return value;
  };
  while (out[at] === 0x3a /* ":" */) {
    const [oldMode = "", newMode = "", , , status = ""] = field().subarray(1).toString("latin1").split(" ");
    const first = decodeGitText(field());
    const second = status.startsWith("R") ? decodeGitText(field()) : first;
    files.push({ oldPath: first, newPath: second, oldMode, newMode, status: statuses[status[0]!] ?? "modified", binary: false, lines: [] });
  }
  return { files, end: at };
}

/** The change a commit made against its first parent (or against nothing, for a root commit). */
export async function readCommitDiff(deps: BrowseDeps, repo: string, commit: Commit): Promise<CommitDiff> {
  const gitDir = requireRepo(deps.dataDir, repo);
  const base = commit.parents[0];
  // One run gives both: the file list NUL-separated with raw paths, then the patch. The patch's
  // own headers quote unusual names, so they are never read for names: the n-th `diff --git`
  // section belongs to the n-th file of the list, which git emits in the same order.
  const options = ["diff-tree", "-z", "-r", "-M", "--raw", "--patch", "--no-commit-id", "--no-color", "--no-ext-diff", "--no-textconv"];
  const out = (await deps.git.run(gitDir, base ? [...options, base, commit.sha] : [...options, "--root", commit.sha])).stdout;
  const { files, end } = parseRawRecords(out);
  const patchStart = out[end] === 0 ? end + 1 : end; // an empty record separates the list from the patch
  const truncated = out.length - patchStart > maxPatchBytes;
  let section = -1;
  let oldLine = 0;
  let newLine = 0;
  for (const line of out.subarray(patchStart, patchStart + maxPatchBytes).toString("utf8").split("\n")) {
    // Content lines start with ` `, `+`, `-` or `\`, so a line starting so is always a header.
    if (line.startsWith("diff --git ")) {
      section++;
      continue;
    }
    const file = files[section];
    if (!file) continue;
    if (file.lines.length === 0 && line.startsWith("Binary files ")) file.binary = true;
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
