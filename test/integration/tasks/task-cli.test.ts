import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startCook, type RunningCook } from "../../helpers/cook.js";

interface EventRow {
  subject: string;
  type: string;
  data: { id: string; from?: string; to?: string; changed?: string[] };
}

describe("cook task", () => {
  let cook: RunningCook;
  const dir = mkdtempSync(join(tmpdir(), "cook-tasks-"));

  before(async () => {
    cook = await startCook();
    for (const repo of ["myapp", "web"]) assert.equal((await cook.cli(["repo", "add", repo])).code, 0);
  });
  after(() => cook?.stop());

  const json = async <T>(args: string[]) => {
    const result = await cook.cli([...args, "--json"]);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as T;
  };
  const taskEvents = async (id: string) =>
    ((await (await fetch(`${cook.url}/api/events?after=0&subject=cook.task.*.${id}.>`)).json()) as { events: EventRow[] }).events;
  const refused = async (args: string[], message: RegExp | string, input?: string) => {
    const result = await cook.cli(args, { input });
    assert.equal(result.code, 1, `${args.join(" ")}: ${result.stdout}`);
    if (typeof message === "string") assert.equal(result.stderr, `cook: ${message}\n`);
    else assert.match(result.stderr, message);
    return result;
  };

  it("creates a task from options, deriving its id from the title, with a created event", async () => {
    const created = await cook.cli(["task", "create", "myapp", "--title=Fix login redirect loop", "--priority=1", "--body=When users log in from /settings…"]);
    assert.deepEqual([created.code, created.stdout], [0, "created task fix-login-redirect-loop in myapp\n"]);
    const again = await cook.cli(["task", "create", "myapp", "--title=Fix login redirect loop!"]);
    assert.equal(again.stdout, "created task fix-login-redirect-loop-2 in myapp\n");
    const third = await cook.cli(["task", "create", "web", "--title=Fix login redirect loop"]);
    assert.equal(third.stdout, "created task fix-login-redirect-loop-3 in web\n");
    const events = await taskEvents("fix-login-redirect-loop");
    assert.deepEqual(events.map((e) => e.subject), ["cook.task.myapp.fix-login-redirect-loop.created"]);
  });

  it("creates tasks from a task file, from --body-file and from standard input", async () => {
    const file = join(dir, "oauth.md");
    writeFileSync(file, "---\nid: add-oauth\ntitle: Add OAuth\npriority: 0\nrepo: myapp\ndepends_on: [fix-login-redirect-loop]\nowner: ana\n---\nUse the **provider**.\n");
    assert.equal((await cook.cli(["task", "create", "--file", file])).stdout, "created task add-oauth in myapp\n");
    writeFileSync(join(dir, "body.md"), "from a file\n");
    const fromFile = await json<{ body: string }>(["task", "create", "web", "--title=Body file", `--body-file=${join(dir, "body.md")}`]);
    assert.equal(fromFile.body, "from a file\n");
    const fromStdin = await cook.cli(["task", "create", "web", "--title=Piped", "-", "--json"], { input: "piped body\n" });
    assert.equal(JSON.parse(fromStdin.stdout).body, "piped body\n");
  });

  it("lists tasks by priority then age as a table, as JSON, and filtered", async () => {
    const table = (await cook.cli(["task", "list", "--repo", "myapp"])).stdout.split("\n");
    assert.match(table[0]!, /^ID +P +STATUS +REPO +BLOCKED BY +TITLE$/);
    assert.match(table[1]!, /^add-oauth +0 +open +myapp +fix-login-redirect-loop +Add OAuth$/);
    assert.match(table[2]!, /^fix-login-redirect-loop +1 +open/);
    const all = await json<Array<{ id: string }>>(["task", "list"]);
    assert.deepEqual(all.map((t) => t.id), ["add-oauth", "fix-login-redirect-loop", "fix-login-redirect-loop-2", "fix-login-redirect-loop-3", "body-file", "piped"]);
    const ready = await json<Array<{ id: string }>>(["task", "list", "--repo", "myapp", "--ready"]);
    assert.deepEqual(ready.map((t) => t.id), ["fix-login-redirect-loop", "fix-login-redirect-loop-2"]);
  });

  it("shows a task with its front matter, body, and dependencies both ways", async () => {
    const shown = (await cook.cli(["task", "show", "add-oauth"])).stdout;
    assert.match(shown, /^add-oauth: Add OAuth\nrepo myapp · priority 0 · open · /);
    assert.match(shown, /\nowner: ana\n/);
    assert.match(shown, /\ndepends on: fix-login-redirect-loop \(open\) {2}\(blocked by fix-login-redirect-loop\)\n/);
    assert.match(shown, /\nUse the \*\*provider\*\*\.\n$/);
    const blocks = (await cook.cli(["task", "show", "fix-login-redirect-loop"])).stdout;
    assert.match(blocks, /\nblocks: add-oauth \(open\)\n/);
  });

  it("closes and reopens a task, with status events, and a ready dependent follows", async () => {
    assert.equal((await cook.cli(["task", "close", "fix-login-redirect-loop"])).stdout, "closed task fix-login-redirect-loop\n");
    const ready = await json<Array<{ id: string }>>(["task", "list", "--ready", "--repo", "myapp"]);
    assert.ok(ready.some((t) => t.id === "add-oauth"));
    await refused(["task", "close", "fix-login-redirect-loop"], "task 'fix-login-redirect-loop' is already closed");
    assert.equal((await cook.cli(["task", "reopen", "fix-login-redirect-loop"])).code, 0);
    const statuses = (await taskEvents("fix-login-redirect-loop")).filter((e) => e.type === "task.status").map((e) => [e.data.from, e.data.to]);
    assert.deepEqual(statuses, [["open", "closed"], ["closed", "open"]]);
  });

  it("edits with --set and --body-file, keeping extra keys", async () => {
    const updated = await cook.cli(["task", "edit", "add-oauth", "--set", "priority=3", "--set", "title=Add OAuth login", "--set", "reviewer=bo"]);
    assert.equal(updated.stdout, "updated task add-oauth\n", updated.stderr);
    writeFileSync(join(dir, "new-body.md"), "new body\n");
    await cook.cli(["task", "edit", "add-oauth", "--body-file", join(dir, "new-body.md")]);
    const detail = await json<{ task: { title: string; priority: number; body: string; extra: Record<string, unknown> } }>(["task", "show", "add-oauth"]);
    assert.deepEqual([detail.task.title, detail.task.priority, detail.task.body], ["Add OAuth login", 3, "new body\n"]);
    assert.deepEqual(detail.task.extra, { owner: "ana", reviewer: "bo" });
    const changed = (await taskEvents("add-oauth")).filter((e) => e.type === "task.updated").map((e) => e.data.changed);
    assert.deepEqual(changed, [["title", "priority", "extra"], ["body"]]);
  });

  it("edits in $EDITOR, reopening it with the error on top until the file is valid", async () => {
    // A scripted editor: the first save breaks the priority, the second fixes it and keeps the rest.
    const editor = join(dir, "editor.sh");
    const log = join(dir, "editor.log");
    writeFileSync(
      editor,
      `#!/bin/sh
n=$(cat "${log}" 2>/dev/null | wc -l)
echo "round $n" >> "${log}"
head -1 "$1" >> "${log}"
if [ "$n" = 0 ]; then sed -i 's/^priority: .*/priority: urgent/' "$1"; else sed -i -e 's/^priority: .*/priority: 1/' -e 's/^title: .*/title: Edited in the editor/' "$1"; fi
`,
    );
    chmodSync(editor, 0o755);
    const result = await cook.cli(["task", "edit", "fix-login-redirect-loop-2"], { env: { EDITOR: editor, VISUAL: undefined } });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "saved task fix-login-redirect-loop-2\n");
    const rounds = readFileSync(log, "utf8").split("\n");
    assert.equal(rounds[1], "---");
    assert.match(rounds[3]!, /^<!-- cook: error: line \d+: priority must be an integer from 0 \(critical\) to 4 \(someday\), got "urgent"/);
    const saved = await json<{ task: { title: string; priority: number } }>(["task", "show", "fix-login-redirect-loop-2"]);
    assert.deepEqual([saved.task.title, saved.task.priority], ["Edited in the editor", 1]);
  });

  it("refuses bad input with one line, exit 1, and changes nothing", async () => {
    const before = await json<unknown[]>(["task", "list"]);
    await refused(["task", "create", "nowhere", "--title=x"], "no repo named 'nowhere'; a task belongs to an existing repo");
    await refused(["task", "create", "myapp", "--title=   "], "title is required and cannot be empty");
    await refused(["task", "create", "myapp", "--title=x", "--depends-on=ghost,phantom"], "depends_on names unknown tasks: ghost, phantom");
    await refused(["task", "edit", "fix-login-redirect-loop", "--set", "depends_on=add-oauth"], "depends_on would make a cycle: fix-login-redirect-loop → add-oauth → fix-login-redirect-loop");
    await refused(["task", "edit", "add-oauth", "--set", "status=done"], 'status must be one of open, in_progress, needs_human, closed, got "done"');
    await refused(["task", "edit", "add-oauth", "--set", "id=other"], "the id cannot be changed");
    writeFileSync(join(dir, "bad.md"), "---\ntitle: Bad\nrepo: myapp\npriority: [1\n---\n");
    await refused(["task", "create", "--file", join(dir, "bad.md")], /^cook: line 4: /);
    await refused(["task", "create", "myapp", "--title=big", "-"], "body is 1048577 bytes; the limit is 1048576 (1 MiB)", "x".repeat(1024 * 1024 + 1));
    await refused(["task", "show", "ghost"], "no task 'ghost'");
    writeFileSync(join(dir, "a-file"), "");
    await refused(["task", "export", join(dir, "a-file", "sub")], `cannot write to ${join(dir, "a-file", "sub")}: ENOTDIR`);
    assert.deepEqual(await json<unknown[]>(["task", "list"]), before);
  });

  it("answers an oversized body with 413 and an unknown status with 422 over the API", async () => {
    const big = await fetch(`${cook.url}/api/tasks`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ repo: "myapp", title: "big", body: "x".repeat(1024 * 1024 + 1) }) });
    assert.equal(big.status, 413);
    const status = await fetch(`${cook.url}/api/tasks?status=done`);
    assert.equal(status.status, 422);
  });

  it("exports every task and imports them into an empty factory exactly", async () => {
    const exportDir = join(dir, "export");
    assert.match((await cook.cli(["task", "export", exportDir])).stdout, /^exported 6 tasks to /);
    assert.deepEqual(readdirSync(exportDir).sort(), ["add-oauth.md", "body-file.md", "fix-login-redirect-loop-2.md", "fix-login-redirect-loop-3.md", "fix-login-redirect-loop.md", "piped.md"]);

    const empty = await startCook();
    try {
      for (const repo of ["myapp", "web"]) await empty.cli(["repo", "add", repo]);
      const imported = await empty.cli(["task", "import", exportDir]);
      assert.equal(imported.stdout, "imported 6 tasks\n", imported.stderr);
      const reexportDir = join(dir, "reexport");
      await empty.cli(["task", "export", reexportDir]);
      for (const name of readdirSync(exportDir)) {
        assert.equal(readFileSync(join(reexportDir, name), "utf8"), readFileSync(join(exportDir, name), "utf8"), name);
      }
      const again = await empty.cli(["task", "import", exportDir]);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /^cook: .*add-oauth\.md: a task with id 'add-oauth' already exists\n$/);
    } finally {
      await empty.stop();
    }
  });
});
