// Parsing git's diff output into files and rows: pure, so that it can run in a render worker
// (server/render/render-worker.ts), off the event loop: a 2 MiB patch is tens of ms of splitting.
import { decodeGitText } from "../git/git-text.js";
import { looksBinary } from "../git/objects.js";

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

/** How much patch text one diff page parses and shows; past it the diff is marked truncated. */
export const maxPatchBytes = 2 * 1024 * 1024;

/**
 * How much of git's output is read at all (the file list comes first, about 100 bytes a file, then
 * the patch): a commit adding a 64 MB file would otherwise be read whole, to show its first 2 MiB.
 */
export const maxDiffOutputBytes = maxPatchBytes + 1024 * 1024;

/** What a diff command made with `diffOptions` printed, and whether that is all of it. */
export interface PatchOutput {
  patch: Buffer;
  /** false: the output was cut at a limit or git was stopped; the diff is shown as truncated. */
  complete: boolean;
}

/**
 * Rows of all files' tables together, as for a blob page (renderLimits.displayLines): a 2 MiB
 * patch of one-character lines would be a million rows, about 90 MB of page.
 */
export const maxDiffLines = 20_000;

const statuses: Record<string, FileDiff["status"]> = { A: "added", D: "deleted", R: "renamed" };

/**
 * The file list of `--raw -z`: `:<old mode> <new mode> <old sha> <new sha> <status>NUL<path>NUL`,
 * with a second path for a rename. Paths are raw bytes, never quoted. Returns where the records end.
 */
function parseRawRecords(out: Buffer): { files: FileDiff[]; withPatch: FileDiff[]; end: number } {
  const files: FileDiff[] = [];
  const withPatch: FileDiff[] = [];
  let at = 0;
  const field = () => {
    const nul = out.indexOf(0, at);
    const end = nul < 0 ? out.length : nul;
    const value = out.subarray(at, end);
    at = end + 1;
    return value;
  };
  // A record cut off by the output limit (no NUL after its last field) is dropped, not shown half.
  const fieldsFollow = (count: number) => {
    for (let i = 0, end = at; i < count; i++) {
      const nul = out.indexOf(0, end);
      if (nul < 0) return false;
      end = nul + 1;
    }
    return true;
  };
  while (out[at] === 0x3a /* ":" */ && fieldsFollow(2)) {
    const [oldMode = "", newMode = "", , , status = ""] = field().subarray(1).toString("latin1").split(" ");
    const first = decodeGitText(field());
    if (status.startsWith("R") && !fieldsFollow(1)) break;
    const second = status.startsWith("R") ? decodeGitText(field()) : first;
    const file: FileDiff = { oldPath: first, newPath: second, oldMode, newMode, status: statuses[status[0]!] ?? "modified", binary: false, lines: [] };
    files.push(file);
    // An unmerged path of a work tree (status U) gets a `* Unmerged path` line, not a section.
    if (status[0] !== "U") withPatch.push(file);
  }
  return { files, withPatch, end: at };
}

/** The options every diff that is parsed here is made with: raw list and patch in one run, no external tools. */
export const diffOptions = ["-z", "--raw", "--patch", "--no-color", "--no-ext-diff", "--no-textconv"];

/**
 * Parses what a diff command made with `diffOptions` printed: the file list NUL-separated with
 * raw paths, then the patch. The patch's own headers quote unusual names, so they are never read
 * for names: the n-th `diff --git` section belongs to the n-th file of the list, which git emits
 * in the same order. At most 2 MiB of patch and maxDiffLines rows are read; the rest is reported as `truncated`.
 */
export function parseDiff(patch: Uint8Array): CommitDiff {
  const out = Buffer.from(patch.buffer, patch.byteOffset, patch.byteLength);
  const { files, withPatch, end } = parseRawRecords(out);
  const patchStart = out[end] === 0 ? end + 1 : end; // an empty record separates the list from the patch
  let truncated = out.length - patchStart > maxPatchBytes;
  let rows = 0;
  let section = -1;
  let oldLine = 0;
  let newLine = 0;
  for (const line of out.subarray(patchStart, patchStart + maxPatchBytes).toString("utf8").split("\n")) {
    // Content lines start with ` `, `+`, `-` or `\`, so a line starting so is always a header.
    if (line.startsWith("diff --git ")) {
      section++;
      continue;
    }
    const file = withPatch[section];
    if (!file) continue;
    if (rows >= maxDiffLines) {
      truncated = true;
      break;
    }
    if (file.lines.length === 0 && line.startsWith("Binary files ")) file.binary = true;
    else if (line.startsWith("@@")) {
      const numbers = /^@@ -(\d+)(?:,\d+)? \+(\d+)/.exec(line);
      oldLine = Number(numbers?.[1] ?? 0);
      newLine = Number(numbers?.[2] ?? 0);
      file.lines.push({ kind: "hunk", text: line });
      rows++;
    } else if (file.lines.length > 0) {
      if (line.startsWith("+")) file.lines.push({ kind: "add", text: line.slice(1), newLine: newLine++ });
      else if (line.startsWith("-")) file.lines.push({ kind: "del", text: line.slice(1), oldLine: oldLine++ });
      else if (line.startsWith(" ")) file.lines.push({ kind: "ctx", text: line.slice(1), oldLine: oldLine++, newLine: newLine++ });
      else continue;
      rows++;
    }
  }
  return { files, truncated };
}

/** A new file as `git diff /dev/null <file>` would show it: one hunk of added lines, or "binary". */
export function addedFileDiff(path: string, mode: string, content: Uint8Array): FileDiff {
  const bytes = Buffer.from(content.buffer, content.byteOffset, content.byteLength);
  const file: FileDiff = { oldPath: path, newPath: path, oldMode: "000000", newMode: mode, status: "added", binary: looksBinary(bytes), lines: [] };
  if (file.binary || bytes.length === 0) return file;
  const text = bytes.toString("utf8").split("\n");
  if (text.at(-1) === "") text.pop();
  file.lines.push({ kind: "hunk", text: `@@ -0,0 +1${text.length === 1 ? "" : `,${text.length}`} @@` });
  text.forEach((line, i) => file.lines.push({ kind: "add", text: line, newLine: i + 1 }));
  return file;
}
