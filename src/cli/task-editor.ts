import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CookClient, TaskInfo } from "../client/http-client.js";
import { CookError } from "../core/errors.js";
import { withNote } from "../core/task-document.js";

function runEditor(file: string): void {
  const editor = process.env.VISUAL || process.env.EDITOR || "vi";
  // Through the shell: editors are often configured with arguments (`code --wait`).
  const result = spawnSync(`${editor} "${file.replace(/"/g, '\\"')}"`, { shell: true, stdio: "inherit" });
  if (result.status !== 0) throw new CookError("invalid", `the editor (${editor}) exited with ${result.status ?? result.signal}; nothing was saved (your text is in ${file})`);
}

/**
 * Opens the task in $VISUAL/$EDITOR until it saves: a refused edit goes back into the editor with
 * the reason on top, so nothing typed is lost. An unchanged or emptied file saves nothing.
 */
export async function editTaskInEditor(client: CookClient, id: string): Promise<TaskInfo | undefined> {
  const { markdown } = await client.getTask(id);
  const dir = mkdtempSync(join(tmpdir(), "cook-task-"));
  const file = join(dir, `${id}.md`);
  let written = markdown;
  writeFileSync(file, written);
  for (;;) {
    runEditor(file);
    const edited = readFileSync(file, "utf8");
    if (edited === written || edited.trim() === "") {
      rmSync(dir, { recursive: true, force: true });
      return undefined;
    }
    try {
      const saved = await client.replaceTaskMarkdown(id, edited);
      rmSync(dir, { recursive: true, force: true });
      return saved;
    } catch (err) {
      if (!(err instanceof CookError) || !["invalid", "conflict", "too_large"].includes(err.code)) throw err;
      written = withNote(edited, `error: ${err.message} (fix it and save, or empty the file to give up)`);
      writeFileSync(file, written);
    }
  }
}
