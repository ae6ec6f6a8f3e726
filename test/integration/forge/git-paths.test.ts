import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { gitOk, makeWorkRepo, revParse, tempDir } from "../../helpers/git.js";

// Git's routes are `/<repo>.git/<endpoint>`, and `/<repo>/<endpoint>` only when <repo> is not one
// of the server's own route names: the factory's pages under those names are never taken for git.
describe("git URLs and the server's own routes", () => {
  let cook: RunningCook;
  const html = { Accept: "text/html" };

  before(async () => {
    cook = await startCook();
    assert.equal((await cook.cli(["repo", "add", "app"])).code, 0);
  });
  after(() => cook?.stop());

  it("opens, edits and closes tasks whose ids are git endpoint names, on the web and over the API", async () => {
    for (const id of ["git-upload-pack", "git-receive-pack", "info"]) {
      const created = await fetch(`${cook.url}/api/tasks`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ id, title: `Task ${id}`, repo: "app" }) });
      assert.equal(created.status, 201, await created.text());

      const api = await fetch(`${cook.url}/api/tasks/${id}`);
      assert.equal(api.status, 200, id);
      assert.equal(((await api.json()) as { task: { id: string } }).task.id, id);
      for (const page of [`/tasks/${id}`, `/tasks/${id}/edit`]) {
        const response = await fetch(`${cook.url}${page}`, { headers: html });
        assert.equal(response.status, 200, page);
        assert.match(await response.text(), new RegExp(`Task ${id}`), page);
      }
      // The web form posts to /tasks/<id>, which a git route once took for a receive-pack POST.
      const edited = await fetch(`${cook.url}/tasks/${id}`, { method: "POST", redirect: "manual", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ title: `Edited ${id}`, repo: "app", priority: "1" }) });
      assert.equal(edited.status, 303, id);
      const closed = await fetch(`${cook.url}/tasks/${id}/close`, { method: "POST", redirect: "manual" });
      assert.equal(closed.status, 303, id);
      const after = (await (await fetch(`${cook.url}/api/tasks/${id}`)).json()) as { task: { title: string; status: string } };
      assert.deepEqual([after.task.title, after.task.status], [`Edited ${id}`, "closed"]);
    }
  });

  it("shows a repo named like a git endpoint at /repos/<name> and serves it at <name>.git and <name>", async () => {
    const seed = await makeWorkRepo([{ "README.md": "named like an endpoint\n" }]);
    assert.equal((await cook.cli(["repo", "add", "git-upload-pack", `--clone=${seed}`])).code, 0);
    const page = await fetch(`${cook.url}/repos/git-upload-pack`, { headers: html });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /README\.md/);
    for (const url of [`${cook.url}/git-upload-pack.git`, `${cook.url}/git-upload-pack`]) {
      const dir = join(tempDir(), "clone");
      await gitOk(["clone", "--quiet", url, dir]);
      assert.equal(await revParse(dir, "HEAD"), await revParse(seed, "HEAD"));
    }
  });

  it("refuses to create a repo named like one of the server's routes, saying why", async () => {
    for (const name of ["tasks", "Tasks", "api", "repos", "events", "branches", "internal", "public", "healthz", "plans"]) {
      const response = await fetch(`${cook.url}/api/repos`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ name }) });
      assert.equal(response.status, 422, name);
      const { error } = (await response.json()) as { error: { code: string; message: string } };
      assert.equal(error.code, "invalid");
      assert.match(error.message, new RegExp(`'${name}' cannot be a repo name: /${name.toLowerCase()} is one of the factory's own pages`));
    }
    const cli = await cook.cli(["repo", "add", "events"]);
    assert.deepEqual([cli.code, cli.stderr.trim().split("\n").length], [1, 1]);
    assert.match(cli.stderr, /'events' cannot be a repo name/);
    // A name that only starts like a route is an ordinary repo.
    assert.equal((await cook.cli(["repo", "add", "tasks-app"])).code, 0);
  });

  it("never answers git on a server route, whatever the endpoint", async () => {
    for (const path of ["/tasks/info/refs?service=git-upload-pack", "/repos/git-upload-pack", "/events/git-receive-pack", "/api/info/refs?service=git-upload-pack"]) {
      const response = await fetch(`${cook.url}${path}`, { headers: html });
      assert.notEqual(response.headers.get("content-type"), "application/x-git-upload-pack-advertisement", path);
      assert.doesNotMatch(await response.text(), /# service=|takes a POST|no repo named/, path);
    }
  });
});
