import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { createTestDatabase, type TestDatabase } from "../../helpers/database.js";

interface Shown {
  task: { id: string; status: string; resolution?: string; title: string };
  markdown: string;
  dependsOn: Array<{ id: string; status: string; resolution?: string }>;
  blockedBy: string[];
}

interface EventRow {
  type: string;
  data: { from?: string; to?: string; resolution?: string; changed?: string[] };
}

// The readiness queries are SQL: they run on both stores Cook runs on.
for (const store of ["pglite", "postgres"] as const) {
  describe(`a closed task's resolution, on ${store}`, () => {
    let cook: RunningCook;
    let database: TestDatabase | undefined;
    const dir = mkdtempSync(join(tmpdir(), "cook-resolution-"));

    before(async () => {
      database = store === "postgres" ? await createTestDatabase() : undefined;
      cook = await startCook(database ? { env: { COOK_DATABASE_URL: database.url } } : {});
      assert.equal((await cook.cli(["repo", "add", "app"])).code, 0);
    });
    after(async () => {
      await cook?.stop();
      await database?.drop();
    });

    const ok = async (args: string[], env?: Record<string, string | undefined>) => {
      const result = await cook.cli(args, { env });
      assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
      return result.stdout;
    };
    const create = (id: string, ...args: string[]) => ok(["task", "create", "app", `--title=Task ${id}`, `--id=${id}`, ...args]);
    const show = async (id: string) => JSON.parse(await ok(["task", "show", id, "--json"])) as Shown;
    const ready = async () => (JSON.parse(await ok(["task", "list", "--ready", "--json"])) as Array<{ id: string }>).map((t) => t.id);
    const listed = async (id: string) => (JSON.parse(await ok(["task", "list", "--json"])) as Array<{ id: string; blockedBy: string[] }>).find((t) => t.id === id)!;
    const events = async (id: string) =>
      ((await (await fetch(`${cook.url}/api/events?after=0&subject=cook.task.*.${id}.>`)).json()) as { events: EventRow[] }).events;
    const api = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${cook.url}${path}`, { method, headers: { "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: response.status, body: (await response.json()) as { error?: { code: string; message: string }; task?: { status: string; resolution?: string } } };
    };

    it("closes as done by default and as won't fix when asked, and says so in the status event, the list and show", async () => {
      await create("plain");
      await create("dropped");
      assert.equal(await ok(["task", "close", "plain"]), "closed task plain\n");
      assert.equal(await ok(["task", "close", "dropped", "--resolution", "wontfix"]), "closed task dropped as won't fix\n");
      assert.deepEqual([(await show("plain")).task.resolution, (await show("dropped")).task.resolution], ["done", "wontfix"]);
      const closing = (await events("dropped")).filter((e) => e.type === "task.status").map((e) => e.data);
      assert.deepEqual(closing.map(({ from, to, resolution }) => ({ from, to, resolution })), [{ from: "open", to: "closed", resolution: "wontfix" }]);

      const table = (await ok(["task", "list"])).split("\n");
      assert.match(table.find((row) => row.startsWith("dropped "))!, /^dropped +2 +closed \(won't fix\) +app +- +Task dropped$/);
      assert.match(table.find((row) => row.startsWith("plain "))!, /^plain +2 +closed \(done\) +app /);
      assert.match(await ok(["task", "show", "dropped"]), /^dropped: Task dropped\nrepo app · priority 2 · closed \(won't fix\) · created /);
    });

    it("refuses an unknown resolution with one line naming the allowed values, over the CLI and the API, and changes nothing", async () => {
      await create("stays-open");
      const cli = await cook.cli(["task", "close", "stays-open", "--resolution=fixed"]);
      assert.deepEqual([cli.code, cli.stdout, cli.stderr], [1, "", 'cook: resolution must be one of done, wontfix, got "fixed"\n']);

      const refused = await api("POST", "/api/tasks/stays-open/close", { resolution: "fixed" });
      assert.deepEqual([refused.status, refused.body.error], [422, { code: "invalid", message: 'resolution must be one of done, wontfix, got "fixed"' }]);
      const notAnObject = await api("POST", "/api/tasks/stays-open/close", ["wontfix"]);
      assert.deepEqual([notAnObject.status, notAnObject.body.error?.code], [400, "bad_request"]);
      const onOpen = await api("PATCH", "/api/tasks/stays-open", { resolution: "wontfix" });
      assert.deepEqual([onOpen.status, onOpen.body.error?.message], [422, "resolution is only for a closed task; the status is open"]);

      assert.equal((await show("stays-open")).task.status, "open");
      assert.deepEqual((await events("stays-open")).map((e) => e.type), ["task.created"]);
    });

    it("closes over the API as won't fix with a body, and as done without one", async () => {
      await create("api-dropped");
      await create("api-done");
      const dropped = await api("POST", "/api/tasks/api-dropped/close", { resolution: "wontfix" });
      assert.deepEqual([dropped.status, dropped.body.task?.status, dropped.body.task?.resolution], [200, "closed", "wontfix"]);
      const done = await fetch(`${cook.url}/api/tasks/api-done/close`, { method: "POST" });
      assert.equal(((await done.json()) as { task: { resolution: string } }).task.resolution, "done");
    });

    it("refuses to close a closed task again, with another resolution too, until it is reopened", async () => {
      await create("twice");
      await ok(["task", "close", "twice"]);
      const again = await cook.cli(["task", "close", "twice"]);
      assert.deepEqual([again.code, again.stderr], [1, "cook: task 'twice' is already closed\n"]);
      const other = await cook.cli(["task", "close", "twice", "--resolution=wontfix"]);
      assert.deepEqual([other.code, other.stderr], [1, "cook: task 'twice' is already closed as done; reopen it to close it as won't fix\n"]);
      assert.equal((await show("twice")).task.resolution, "done");

      assert.equal(await ok(["task", "reopen", "twice"]), "reopened task twice\n");
      const reopened = await show("twice");
      assert.deepEqual([reopened.task.status, reopened.task.resolution, /resolution/.test(reopened.markdown)], ["open", undefined, false]);
      await ok(["task", "close", "twice", "--resolution=wontfix"]);
      assert.equal((await show("twice")).task.resolution, "wontfix");
    });

    it("unblocks a dependent when its dependency is done, keeps it blocked when won't fix, and blocks it again on reopen", async () => {
      await create("base");
      await create("dependent", "--depends-on=base");
      assert.ok(!(await ready()).includes("dependent"));

      await ok(["task", "close", "base"]);
      assert.ok((await ready()).includes("dependent"));
      assert.deepEqual((await listed("dependent")).blockedBy, []);
      assert.match(await ok(["task", "show", "dependent"]), /\ndepends on: base \(closed, done\) {2}\(ready\)\n/);

      await ok(["task", "reopen", "base"]);
      assert.ok(!(await ready()).includes("dependent"));
      assert.deepEqual((await listed("dependent")).blockedBy, ["base"]);

      await ok(["task", "close", "base", "--resolution=wontfix"]);
      assert.ok(!(await ready()).includes("dependent"));
      assert.deepEqual((await listed("dependent")).blockedBy, ["base"]);
      const shown = await show("dependent");
      assert.deepEqual([shown.blockedBy, shown.dependsOn[0]?.resolution], [["base"], "wontfix"]);
      assert.match(
        await ok(["task", "show", "dependent"]),
        /\ndepends on: base \(closed, won't fix\) {2}\(blocked by base; base closed as won't fix: reopen it, drop the dependency, or close this task too\)\n/,
      );
      assert.match(await ok(["task", "show", "base"]), /\nblocks: dependent \(open\)\n/);

      // A person decides it was done after all: an edit of the closed task's resolution.
      assert.equal(await ok(["task", "edit", "base", "--set", "resolution=done"]), "updated task base\n");
      assert.ok((await ready()).includes("dependent"));
      assert.deepEqual((await events("base")).filter((e) => e.type === "task.updated").map((e) => e.data.changed), [["resolution"]]);
    });

    it("counts a dependency already done when the dependent is created as met, and one already won't fix as not", async () => {
      await create("landed");
      await ok(["task", "close", "landed"]);
      await create("given-up");
      await ok(["task", "close", "given-up", "--resolution=wontfix"]);
      await create("follow-up", "--depends-on=landed");
      await create("orphaned", "--depends-on=landed,given-up");
      const readyNow = await ready();
      assert.ok(readyNow.includes("follow-up"));
      assert.ok(!readyNow.includes("orphaned"));
      assert.deepEqual((await listed("orphaned")).blockedBy, ["given-up"]);
    });

    it("keeps the resolution in the task file: show, edit in $EDITOR, replace, export and import", async () => {
      await create("in-file");
      await ok(["task", "close", "in-file", "--resolution=wontfix"]);
      const { markdown } = await show("in-file");
      assert.match(markdown, /\nstatus: closed\nresolution: wontfix\nrepo: app\n/);

      const editor = join(dir, "retitle.sh");
      writeFileSync(editor, "#!/bin/sh\nsed -i 's/^title: .*/title: Retitled/' \"$1\"\n");
      chmodSync(editor, 0o755);
      assert.equal(await ok(["task", "edit", "in-file"], { EDITOR: editor, VISUAL: undefined }), "saved task in-file\n");
      assert.deepEqual([(await show("in-file")).task.title, (await show("in-file")).task.resolution], ["Retitled", "wontfix"]);

      const reopenKeepingIt = await api("PUT", "/api/tasks/in-file/markdown", { markdown: markdown.replace("status: closed", "status: open") });
      assert.deepEqual([reopenKeepingIt.status, reopenKeepingIt.body.error?.message], [
        422,
        "line 6: resolution is only for a closed task, and the status is open: remove the resolution line, or set status: closed",
      ]);
      assert.equal((await show("in-file")).task.resolution, "wontfix");
      const withoutOne = await api("PUT", "/api/tasks/in-file/markdown", { markdown: markdown.replace("resolution: wontfix\n", "") });
      assert.deepEqual([withoutOne.status, withoutOne.body.task?.resolution], [200, "done"], "a closed task file without a resolution reads as done");
      await ok(["task", "reopen", "in-file"]);
      await ok(["task", "close", "in-file", "--resolution=wontfix"]);

      const exported = join(dir, "export");
      await ok(["task", "export", exported]);
      assert.match(readFileSync(join(exported, "in-file.md"), "utf8"), /\nresolution: wontfix\n/);
      assert.doesNotMatch(readFileSync(join(exported, "dependent.md"), "utf8"), /resolution/);
      writeFileSync(join(exported, "old-closed.md"), "---\nid: old-closed\ntitle: Closed before resolutions\nstatus: closed\nrepo: app\n---\n");

      const other = await startCook();
      try {
        await other.cli(["repo", "add", "app"]);
        const imported = await other.cli(["task", "import", exported]);
        assert.equal(imported.code, 0, imported.stderr);
        const byId = new Map((JSON.parse((await other.cli(["task", "list", "--json"])).stdout) as Array<{ id: string; resolution?: string; blockedBy: string[] }>).map((t) => [t.id, t]));
        assert.deepEqual([byId.get("in-file")?.resolution, byId.get("old-closed")?.resolution, byId.get("dropped")?.resolution], ["wontfix", "done", "wontfix"]);
        assert.deepEqual(byId.get("orphaned")?.blockedBy, ["given-up"]);

        writeFileSync(join(dir, "confused.md"), "---\ntitle: Confused\nrepo: app\nstatus: open\nresolution: done\n---\n");
        const confused = await other.cli(["task", "import", join(dir, "confused.md")]);
        assert.equal(confused.code, 1);
        assert.equal(confused.stderr, `cook: ${join(dir, "confused.md")}: line 5: resolution is only for a closed task, and the status is open: remove the resolution line, or set status: closed\n`);
      } finally {
        await other.stop();
      }
    });
  });
}
