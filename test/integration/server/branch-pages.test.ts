import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { gitOk, lsRemote, makeWorkRepo } from "../../helpers/git.js";
import { eventually } from "../../helpers/wait.js";

interface BranchJson {
  id: string;
  repo: string;
  name: string;
  status: string;
  taskId?: string;
  environment?: { id: string; state: string; path: string };
}

describe("branch pages and forms", () => {
  let cook: RunningCook;
  let seed: string;

  before(async () => {
    cook = await startCook();
    seed = await makeWorkRepo([{ "README.md": "# shop\n", "src/cart.ts": "export const items = [];\n" }]);
    const withSetup = await makeWorkRepo([{ "cook.toml": `[environment]\nsetup = "echo 'installing <deps> & more' && echo done"\n` }]);
    for (const args of [
      ["repo", "add", "tooling", `--clone=${withSetup}`],
      ["repo", "add", "shop", `--clone=${seed}`],
      ["repo", "add", "blog", `--clone=${seed}`],
      ["repo", "add", "empty"],
      ["task", "create", "shop", "--title=Fix the cart", "--id=fix-cart"],
      ["task", "create", "blog", "--title=Write a post", "--id=write-post"],
      ["task", "create", "empty", "--title=First commit", "--id=first-commit"],
    ]) {
      const result = await cook.cli(args);
      assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
    }
  });
  after(() => cook?.stop());

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${cook.url}${path}`, { headers: { Accept: "text/html", ...headers }, redirect: "manual" });
    return { status: response.status, location: response.headers.get("location"), html: await response.text() };
  };
  const post = async (path: string, form: Record<string, string>, headers: Record<string, string> = {}) => {
    const response = await fetch(`${cook.url}${path}`, {
      method: "POST",
      headers: { Accept: "text/html", "Content-Type": "application/x-www-form-urlencoded", ...headers },
      body: new URLSearchParams(form).toString(),
      redirect: "manual",
    });
    return { status: response.status, location: response.headers.get("location"), html: await response.text() };
  };
  const branches = async (query = "") => ((await (await fetch(`${cook.url}/api/branches${query}`)).json()) as { branches: BranchJson[] }).branches;
  const branch = async (ref: string) => ((await (await fetch(`${cook.url}/api/branches/${ref}`)).json()) as { branch: BranchJson }).branch;
  const cli = async (args: string[]) => {
    const result = await cook.cli(args);
    assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
    return result.stdout;
  };
  const unescape = (text: string) => text.replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&#92;/g, "\\").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  const errorOf = (html: string) => {
    const shown = /<p class="form-error" role="alert">([^<]*)<\/p>/.exec(html)?.[1];
    return shown === undefined ? undefined : unescape(shown);
  };
  const valueOf = (html: string, id: string) => new RegExp(`id="${id}" name="[^"]*" value="([^"]*)"`).exec(html)?.[1];

  describe("New branch form", () => {
    it("creates a branch with the chosen environment and task, and answers with the branch page", async () => {
      const created = await post("/branches", { repo: "shop", name: "feature/web-form", base: "", task: "fix-cart", env: "none" });
      assert.equal(created.status, 303);
      assert.equal(created.location, "/branches/shop/feature/web-form");
      const record = await branch("shop/feature/web-form");
      assert.equal(record.taskId, "fix-cart");
      assert.equal(record.environment, undefined);
      const page = await get(created.location!);
      assert.equal(page.status, 200);
      assert.match(page.html, /<h1>feature\/web-form<\/h1>/);
    });

    it("keeps what was typed and says why when the name is not one git accepts, making nothing", async () => {
      const before = (await branches("?repo=shop")).length;
      const refused = await post("/branches", { repo: "shop", name: "bad..name", base: "", task: "fix-cart", env: "local" });
      assert.equal(refused.status, 422);
      assert.match(errorOf(refused.html) ?? "", /'bad\.\.name' is not a valid branch name/);
      assert.equal(valueOf(refused.html, "name"), "bad..name");
      assert.equal(valueOf(refused.html, "task"), "fix-cart");
      assert.match(refused.html, /<option value="local" selected>local<\/option>/);
      assert.equal((await branches("?repo=shop")).length, before);
    });

    it("refuses a name that exists, an unknown base, a task of another repo and an empty repo on the form", async () => {
      const before = (await branches()).length;
      for (const [form, status, message] of [
        [{ repo: "shop", name: "feature/web-form", env: "none" }, 409, /branch 'feature\/web-form' already exists in shop/],
        [{ repo: "shop", name: "from-nowhere", base: "no-such-base", env: "none" }, 404, /no branch 'no-such-base' in shop to start from/],
        [{ repo: "shop", name: "wrong-task", task: "write-post", env: "none" }, 422, /task 'write-post' belongs to blog, not shop/],
        [{ repo: "shop", name: "no-task", task: "no-such-task", env: "none" }, 404, /no task 'no-such-task'/],
        [{ repo: "empty", name: "too-early", env: "none" }, 404, /the repo is empty: push a first commit/],
        [{ repo: "shop", name: "odd-env", env: "docker" }, 422, /unknown environment backend 'docker'/],
      ] as const) {
        const refused = await post("/branches", form);
        assert.equal(refused.status, status, `${JSON.stringify(form)}: ${errorOf(refused.html)}`);
        assert.match(errorOf(refused.html) ?? "", message);
        assert.equal(valueOf(refused.html, "name"), form.name);
      }
      assert.equal((await branches()).length, before);
    });

    it("offers the repos and open tasks, the repo and task given in the URL chosen", async () => {
      const page = await get("/branches/new?repo=blog&task=write-post");
      assert.equal(page.status, 200);
      assert.match(page.html, /<option selected>blog<\/option>/);
      assert.equal(valueOf(page.html, "task"), "write-post");
      assert.match(page.html, /<option value="fix-cart">Fix the cart \(shop\)<\/option>/);
    });
  });

  describe("Start work", () => {
    it("creates a branch named after the task with the repo's default environment and goes to its page", async () => {
      const started = await post("/tasks/write-post/start", {});
      assert.equal(started.status, 303);
      assert.equal(started.location, "/branches/blog/write-post");
      const record = await branch("blog/write-post");
      assert.equal(record.taskId, "write-post");
      assert.equal(record.environment?.state, "ready");
      assert.ok(existsSync(join(record.environment!.path, "TASK.md")));
      const task = await get("/tasks/write-post");
      assert.match(task.html, /<li id="branch-[^"]+"><a href="\/branches\/blog\/write-post">write-post<\/a> <span class="pill status-open">open<\/span> <span class="env">local <span class="pill env-ready">ready<\/span>/);
      assert.match(task.html, /<span class="pill status-in_progress">in progress<\/span>/);
    });

    it("shows on the task page why work cannot start: an empty repo, a closed task", async () => {
      const empty = await post("/tasks/first-commit/start", {});
      assert.equal(empty.status, 404);
      assert.match(errorOf(empty.html) ?? "", /no branch 'main' in empty to start from \(the repo is empty: push a first commit\)/);
      assert.match(empty.html, /<h1>First commit<\/h1>/);

      await cli(["task", "create", "shop", "--title=Done already", "--id=done-already"]);
      await cli(["task", "close", "done-already"]);
      const closed = await post("/tasks/done-already/start", {});
      assert.equal(closed.status, 409);
      assert.match(errorOf(closed.html) ?? "", /task 'done-already' is closed; reopen it to work on it/);
      assert.deepEqual(await branches("?task=done-already"), []);
    });
  });

  describe("New repo form", () => {
    it("creates an empty repo with the default branch given", async () => {
      const created = await post("/repos", { name: "fresh-start", default_branch: "trunk", source: "" });
      assert.equal(created.status, 303);
      assert.equal(created.location, "/repos/fresh-start");
      const repo = (await (await fetch(`${cook.url}/api/repos/fresh-start`)).json()) as { repo: { defaultBranch: string } };
      assert.equal(repo.repo.defaultBranch, "trunk");
    });

    it("imports every branch from a path on the server for an admin (localhost is one)", async () => {
      await gitOk(["branch", "topic"], { cwd: seed });
      const imported = await post("/repos", { name: "imported", default_branch: "main", source: seed });
      assert.equal(imported.status, 303, errorOf(imported.html));
      assert.deepEqual(Object.keys(await lsRemote(`${cook.url}/imported.git`)).sort(), ["HEAD", "refs/heads/main", "refs/heads/topic"]);
    });

    it("shows the import policy's refusal to a user naming a path, with the form filled in", async () => {
      const userToken = (await cli(["token", "create", "--scope", "user"])).trim();
      const user = { Authorization: `Bearer ${userToken}` };
      const form = await get("/repos/new", user);
      assert.match(form.html, /Paths on the server, ssh and private addresses are for admins/);
      const refused = await post("/repos", { name: "stolen", default_branch: "main", source: "/etc" }, user);
      assert.equal(refused.status, 422);
      assert.match(errorOf(refused.html) ?? "", /cannot import from '\/etc': it is not a git repository this server can import for you \(users may import only from http\(s\):\/\/ and git:\/\/ URLs of public hosts\)/);
      assert.equal(valueOf(refused.html, "source"), "/etc");
      assert.equal(valueOf(refused.html, "name"), "stolen");
      assert.equal((await fetch(`${cook.url}/api/repos/stolen`)).status, 404);
    });

    it("refuses a bad name, a taken name and the name of the form itself, keeping the input", async () => {
      for (const [name, status, message] of [
        ["../up", 422, /is not a valid repo name/],
        ["shop", 409, /repo 'shop' already exists/],
        ["new", 422, /'new' cannot be a repo name: \/repos\/new is the factory's page for making repos/],
      ] as const) {
        const refused = await post("/repos", { name, default_branch: "main", source: "" });
        assert.equal(refused.status, status, name);
        assert.match(errorOf(refused.html) ?? "", message);
        assert.equal(valueOf(refused.html, "name"), name);
      }
    });
  });

  describe("dashboard", () => {
    it("lists branches with status, task, environment, head and ahead/behind, filtered by repo, status and task", async () => {
      await cli(["branch", "create", "shop", "plain", "--env=none"]);
      const all = await get("/branches");
      assert.equal(all.status, 200);
      const rowIds = (html: string) => [...html.matchAll(/<tr class="branch" id="branch-([^"]+)" data-repo="([^"]+)" data-status="([^"]+)">/g)].map((m) => `${m[2]}:${m[3]}`);
      assert.ok(rowIds(all.html).includes("blog:open"));
      assert.ok(rowIds(all.html).every((row) => row.startsWith("shop:") || row.startsWith("blog:")));
      assert.deepEqual([...new Set(rowIds((await get("/branches?repo=blog")).html))], ["blog:open"]);
      // Ahead/behind not known yet is counted in the background, and shown once counted.
      const byTask = await eventually(async () => {
        const page = await get("/branches?task=fix-cart");
        return page.html.includes('title="being counted"') ? undefined : page;
      }, 10_000, "ahead/behind counted");
      assert.equal(rowIds(byTask.html).length, 1);
      assert.match(byTask.html, /<a href="\/branches\/shop\/feature\/web-form">feature\/web-form<\/a>/);
      assert.match(byTask.html, /<a href="\/tasks\/fix-cart">Fix the cart<\/a>/);
      assert.match(byTask.html, /<td class="num ahead-behind"><span title="0 commits ahead of main, 0 behind">\+0 −0<\/span><\/td>/);
      assert.deepEqual(rowIds((await get("/branches?status=abandoned")).html), []);
    });

    it("answers a filter it cannot use with the reason, not a crash", async () => {
      const refused = await get("/branches?status=sideways");
      assert.equal(refused.status, 422);
      assert.match(unescape(refused.html), /'status' must be one of open, merged, abandoned, got 'sideways'/);
    });

    it("shows '…' for an environment's disk use until it is measured, then the size from the disk-use fragment", async () => {
      const id = (JSON.parse(await cli(["branch", "create", "blog", "sized", "--env=local", "--json"])) as { branch: BranchJson }).branch.id;
      const list = await get("/branches?repo=blog");
      assert.match(list.html, new RegExp(`<span id="disk-${id}" class="disk-use" data-pending>…</span>`));
      assert.match(list.html, /hx-get="\/branches\/disk-use\?repo=blog"/);
      const fragment = await get("/branches/disk-use?repo=blog");
      assert.match(fragment.html, new RegExp(`<span id="disk-${id}" class="disk-use" hx-swap-oob="true">\\d+(\\.\\d)? (KiB|MiB)</span>`));
      const again = await get("/branches?repo=blog");
      assert.match(again.html, new RegExp(`<span id="disk-${id}" class="disk-use">\\d+(\\.\\d)? (KiB|MiB)</span>`));
      assert.doesNotMatch(again.html, /disk-use\?/);
    });

    it("renders only the list for htmx", async () => {
      const fragment = await get("/branches?repo=shop", { "HX-Request": "true", "HX-Target": "branch-list" });
      assert.match(fragment.html, /^<section id="branch-list"/);
    });
  });

  describe("branch page", () => {
    it("answers 404 for a branch that is not tracked, however it is named", async () => {
      for (const path of ["/branches/shop/no-such", "/branches/no-such-repo/x", "/branches/brn_01h2xcejqtf2nbrexx3vqjhp41", "/branches/plain", "/branches/shop/caf%E9"]) {
        const page = await get(path);
        assert.equal(page.status, 404, path);
        assert.match(page.html, /<section class="error" role="alert">/, path);
      }
    });

    it("reads the first segment as the repo: the same name in two repos are two pages", async () => {
      await cli(["branch", "create", "blog", "plain", "--env=none"]);
      const shop = await get("/branches/shop/plain");
      const blog = await get("/branches/blog/plain");
      assert.match(shop.html, /<dt>Repo<\/dt><dd><a href="\/repos\/shop">shop<\/a><\/dd>/);
      assert.match(blog.html, /<dt>Repo<\/dt><dd><a href="\/repos\/blog">blog<\/a><\/dd>/);
      const id = (await branch("blog/plain")).id;
      assert.match((await get(`/branches/${id}`)).html, /<a href="\/repos\/blog">blog<\/a>/);
    });

    it("shows committed work: commits ahead of the base and the diff from where the branch left it", async () => {
      const record = await branch("blog/write-post");
      const checkout = record.environment!.path;
      writeFileSync(join(checkout, "post.md"), "# Hello\n\nA new post.\n");
      await cli(["branch", "exec", "blog/write-post", "--", "sh", "-c", "git add post.md && git commit --quiet -m 'Draft the post' && git push --quiet"]);
      const page = await get("/branches/blog/write-post");
      assert.match(page.html, /<a href="\/repos\/blog\/commit\/[0-9a-f]{40}">Draft the post<\/a>/);
      assert.match(page.html, /1 ahead, 0 behind main/);
      assert.match(page.html, /<h3><span class="change added">added<\/span> <a href="\/repos\/blog\/blob\/[0-9a-f]{40}\/post.md">post.md<\/a><\/h3>/);
      assert.match(page.html, /<td class="src">A new post.<\/td>/);
    });

    it("shows uncommitted work: staged, unstaged and untracked (as added), but never a file outside the checkout", async () => {
      const record = await branch("blog/write-post");
      const checkout = record.environment!.path;
      writeFileSync(join(checkout, "README.md"), "# shop\nstaged line\n");
      await gitOk(["add", "README.md"], { cwd: checkout });
      writeFileSync(join(checkout, "post.md"), "# Hello\n\nA new post.\nunstaged line\n");
      writeFileSync(join(checkout, "notes.txt"), "untracked line\n");
      await gitOk(["-C", checkout, "config", "core.fsmonitor", "touch fsmonitor-ran; false"]);
      symlinkSync(join(cook.dataDir, "hook-secret"), join(checkout, "secret-link"));
      const page = await get("/branches/blog/write-post?tab=work");
      assert.equal(page.status, 200);
      const section = (name: string) => page.html.split(`<h2 id="${name.toLowerCase()}">`)[1]?.split("<h2")[0] ?? "";
      assert.match(section("Staged"), /<td class="src">staged line<\/td>/);
      assert.match(section("Unstaged"), /<td class="src">unstaged line<\/td>/);
      assert.match(section("Untracked"), /<span class="change added">added<\/span> notes.txt<\/h3>[\s\S]*<td class="src">untracked line<\/td>/);
      // A symlink is shown as its target's name, as git shows one: never the file it points at.
      assert.match(section("Untracked"), /secret-link <span class="badge">symlink<\/span>/);
      assert.doesNotMatch(page.html, new RegExp(readFileSync(join(cook.dataDir, "hook-secret"), "utf8").trim()));
      assert.equal(existsSync(join(checkout, "fsmonitor-ran")), false, "the checkout's fsmonitor hook did not run");
    });

    it("reads a sandboxed checkout inside its sandbox: a filter its config names cannot read the server's files", async () => {
      const created = JSON.parse(await cli(["branch", "create", "shop", "boxed", "--env=sandbox", "--json"])) as { environment: { path: string; state: string } };
      assert.equal(created.environment.state, "ready");
      const checkout = created.environment.path;
      const secretFile = join(cook.dataDir, "hook-secret");
      // git runs a clean filter on a changed file to compare it with the index: on the host this would copy the secret.
      writeFileSync(join(checkout, ".gitattributes"), "*.md filter=peek\n");
      await gitOk(["-C", checkout, "config", "filter.peek.clean", `sh -c 'cat ${secretFile} > peeked.out 2>&1; cat'`]);
      writeFileSync(join(checkout, "README.md"), "# shop\nboxed change\n");
      const page = await get("/branches/shop/boxed?tab=work");
      assert.equal(page.status, 200);
      assert.match(page.html, /<td class="src">boxed change<\/td>/);
      assert.ok(existsSync(join(checkout, "peeked.out")), "the filter ran");
      assert.doesNotMatch(readFileSync(join(checkout, "peeked.out"), "utf8"), new RegExp(readFileSync(secretFile, "utf8").trim()));
    });

    it("says the environment is lost when its folder is gone, instead of failing", async () => {
      const created = JSON.parse(await cli(["branch", "create", "shop", "vanishing", "--env=local", "--json"])) as { environment: { path: string } };
      rmSync(created.environment.path, { recursive: true, force: true });
      const page = await get("/branches/shop/vanishing?tab=work");
      assert.equal(page.status, 200);
      assert.match(page.html, /the environment of &#39;vanishing&#39; is lost: its folder .* is gone/);
      assert.equal((await branch("shop/vanishing")).environment?.state, "lost");
      assert.match((await get("/branches/shop/vanishing")).html, /<span class="pill env-lost">lost<\/span>/);
    });

    it("shows the setup log, and says when there is no environment", async () => {
      await cli(["branch", "create", "tooling", "with-setup", "--env=local"]);
      const page = await get("/branches/tooling/with-setup?tab=setup");
      assert.match(page.html, /<pre id="setup-log" class="setup-log" sse-swap="setup-output" hx-swap="beforeend">\$ echo &#39;installing &lt;deps&gt; &amp; more&#39; &amp;&amp; echo done\ninstalling &lt;deps&gt; &amp; more\ndone\n<\/pre>/);
      assert.match((await get("/branches/shop/plain?tab=setup")).html, /This branch has no environment, so nothing was set up./);
    });

    it("has a Terminal tab whose panel is the terminal's", async () => {
      const page = await get("/branches/shop/plain?tab=terminal");
      assert.match(page.html, /<a href="\/branches\/shop\/plain\?tab=terminal" aria-current="page">Terminal<\/a>/);
      assert.match(page.html, /<section id="branch-panel" class="branch-panel" data-tab="terminal">/);
    });
  });

  describe("abandon", () => {
    it("abandons the branch, tears its environment down and shows it ended; a second click says it already is", async () => {
      const record = await branch("tooling/with-setup");
      const abandoned = await post(`/branches/${record.id}/abandon`, {});
      assert.equal(abandoned.status, 303);
      assert.equal(abandoned.location, `/branches/${record.id}`);
      const after = await branch(record.id);
      assert.equal(after.status, "abandoned");
      assert.equal(after.environment?.state, "torn_down");
      assert.equal(existsSync(record.environment!.path), false);
      const page = await get(abandoned.location!);
      assert.match(page.html, /<span class="pill status-abandoned">abandoned<\/span>/);
      assert.doesNotMatch(page.html, /Abandon…/);

      const again = await post(`/branches/${record.id}/abandon`, {});
      assert.equal(again.status, 409);
      assert.match(errorOf(again.html) ?? "", /branch 'with-setup' is abandoned already/);
    });
  });

  describe("live stream", () => {
    /** Reads an SSE response until `done` holds for what has come so far, or fails after `ms`. */
    async function readUntil(response: Response, done: (text: string) => boolean, ms = 10_000): Promise<string> {
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      const deadline = Date.now() + ms;
      let text = "";
      try {
        while (!done(text)) {
          const left = deadline - Date.now();
          if (left <= 0) throw new Error(`the stream did not deliver in ${ms} ms; it sent:\n${text}`);
          const chunk = await Promise.race([reader.read(), new Promise<undefined>((resolve) => setTimeout(resolve, left))]);
          if (chunk?.done) break;
          if (chunk?.value) text += decoder.decode(chunk.value, { stream: true });
        }
      } finally {
        await reader.cancel().catch(() => {});
      }
      return text;
    }

    it("sends a branch page a change when the branch changes", async () => {
      const record = await branch("shop/plain");
      const [latest] = ((await (await fetch(`${cook.url}/api/events?limit=1`)).json()) as { events: Array<{ id: number }> }).events;
      const response = await fetch(`${cook.url}/branches/live?branch=${record.id}&after=${latest!.id}`);
      assert.equal(response.status, 200);
      const [text] = await Promise.all([readUntil(response, (t) => t.includes("event: branch-change")), cli(["branch", "abandon", "shop/plain"])]);
      assert.match(text, /event: branch-change\ndata: \d+\n/);
    });

    it("sends a branch page its setup output as escaped HTML, and nothing of another branch's", async () => {
      const record = await branch("tooling/with-setup");
      const text = await readUntil(await fetch(`${cook.url}/branches/live?branch=${record.id}&after=0`), (t) => t.includes("done"));
      assert.match(text, /event: setup-output\ndata: <span>installing &lt;deps&gt; &amp; more/);
      assert.doesNotMatch(text, /Draft the post|write-post/);
    });

    it("sends the dashboard state changes, not each line of setup output", async () => {
      const text = await readUntil(await fetch(`${cook.url}/branches/live?repo=tooling&after=0`), (t) => (t.match(/event: branch-change/g) ?? []).length >= 3, 5_000);
      assert.doesNotMatch(text, /setup-output|installing/);
    });
  });
});
