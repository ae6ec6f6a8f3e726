/** One line of the change an edit tool call makes: removed, added, or a marker between edits. */
export interface EditDiffLine {
  op: "del" | "add" | "gap";
  text: string;
}

export interface EditDiff {
  path: string;
  lines: EditDiffLine[];
  /** Lines left out past the cap. */
  more: number;
}

const maxLines = 400;
const text = (value: unknown) => (typeof value === "string" ? value : undefined);
const splitLines = (value: string) => (value === "" ? [] : value.replace(/\n$/, "").split("\n"));

/**
 * The change a file-writing tool call makes, as removed and added lines, from the call's own input:
 * a whole write (Claude `Write`, Gemini `write_file`, OpenCode `write`, Cursor's write tool) is all
 * added lines, an edit (Claude `Edit`/`MultiEdit`, Gemini `replace`, OpenCode `edit`) its old lines
 * removed and new lines added. Undefined for any other call. Cut to 400 lines; `more` says how many
 * were left out. Input shapes follow each CLI's tool schema as its requests show it.
 */
export function editDiffOf(name: string, input: unknown): EditDiff | undefined {
  if (!input || typeof input !== "object" || Array.isArray(input)) return undefined;
  const args = input as Record<string, unknown>;
  const path = text(args.file_path) ?? text(args.filePath) ?? text(args.path) ?? text(args.absolute_path);
  if (!path) return undefined;
  const lines: EditDiffLine[] = [];
  const edit = (oldText: string | undefined, newText: string | undefined) => {
    if (lines.length > 0) lines.push({ op: "gap", text: "…" });
    for (const line of splitLines(oldText ?? "")) lines.push({ op: "del", text: line });
    for (const line of splitLines(newText ?? "")) lines.push({ op: "add", text: line });
  };
  const lower = name.toLowerCase();
  const content = text(args.content) ?? text(args.fileText) ?? text(args.file_text);
  if (["write", "write_file", "writefile", "writetoolcall", "create_file"].includes(lower) && content !== undefined) {
    edit(undefined, content);
  } else if (["edit", "replace", "str_replace", "edittoolcall"].includes(lower) && (text(args.old_string) ?? text(args.oldString)) !== undefined) {
    edit(text(args.old_string) ?? text(args.oldString), text(args.new_string) ?? text(args.newString));
  } else if (lower === "multiedit" && Array.isArray(args.edits)) {
    for (const one of args.edits as Array<Record<string, unknown>>) edit(text(one?.old_string), text(one?.new_string));
  } else {
    return undefined;
  }
  return { path, lines: lines.slice(0, maxLines), more: Math.max(0, lines.length - maxLines) };
}
