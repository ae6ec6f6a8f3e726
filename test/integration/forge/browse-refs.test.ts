import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { crawl, parsePage } from "../../helpers/crawl.js";
import { gitOk, lsRemote, makeWorkRepo, revParse, tempDir } from "../../helpers/git.js";

const missingDefault = "The default branch main does not exist yet; the first push of main creates it.";

describe("code browser: repos that are not a default branch with commits", () => {
  let cook: RunningCook;
  let work: string;
  let head: string;

  const page = async (path: string) => {
    const response = await fetch(`${cook.url}${path}`);
    const html = await response.text();
    assert.equal(response.status, 200, `${path}: ${html}`);
    return parsePage(html);
  };
  const textOf = async (path: string) => {
    const parsed = await page(path);
    return parsed.text(parsed.all("main")[0]!).replace(/\s+/g, " ");
  };
  /** The rows of a page's ref tables: name → [link of the name, text of the last cell, its link]. */
  const refRows = async (path: string) => {
    const parsed = await page(path);
    return Object.fromEntries(
      parsed.all("tr").flatMap((row) => {
        const cells = parsed.all("td", undefined, row);
        if (cells.length < 3) return [];
        const [name, last] = [cells[0]!, cells[cells.length - 1]!];
        return [[parsed.text(name).replace(/\s*default$/, "").trim(), { href: parsed.links(name)[0], target: parsed.text(last).replace(/\s+/g, " ").trim(), targetHref: parsed.links(last)[0] }]];
      }),
    );
  };

  before(async () => {
    work = await makeWorkRepo([{ "README.md": "read me first\n", "src/app.ts": "export {};\n" }, { "src/app.ts": "export const x = 1;\n" }]);
    head = await revParse(work, "HEAD");
    await gitOk(["tag", "tree-tag", "HEAD^{tree}"], { cwd: work });
    await gitOk(["tag", "blob-tag", "HEAD:README.md"], { cwd: work });
    await gitOk(["tag", "-a", "tree-annotated", "-m", "a tree", "HEAD^{tree}"], { cwd: work });
    await gitOk(["tag", "-a", "inner", "-m", "inner", "HEAD"], { cwd: work });
    await gitOk(["-c", "advice.nestedTag=false", "tag", "-a", "outer", "-m", "a tag of a tag", "inner"], { cwd: work });
    // A branch whose name is not UTF-8 (git allows any byte but a few ASCII ones in a ref name).
    writeFileSync(Buffer.concat([Buffer.from(join(work, ".git", "refs", "heads", "caf")), Buffer.of(0xe9)]), `${head}\n`);

    cook = await startCook();
    const url = (repo: string) => `${cook.url}/${repo}.git`;
    // Through the API the CLI uses: four CLI processes would double this file's time on a busy machine.
    for (const body of [{ name: "empty-one" }, { name: "only-tag" }, { name: "no-default" }, { name: "odd-tags", clone: work }, { name: "detached", clone: work }, { name: "detached-nowhere", clone: work }]) {
      const response = await fetch(`${cook.url}/api/repos`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      assert.equal(response.status, 201, await response.text());
    }
    await gitOk(["push", "--quiet", url("only-tag"), "inner"], { cwd: work });
    await gitOk(["push", "--quiet", url("no-default"), "main:feature/x", "HEAD~1:refs/heads/fix/y"], { cwd: work });
    // HEAD holding a commit id instead of `ref: refs/heads/…`: one the repo has, one it does not.
    writeFileSync(join(cook.dataDir, "repos", "detached.git", "HEAD"), `${await revParse(work, "HEAD~1")}\n`);
    writeFileSync(join(cook.dataDir, "repos", "detached-nowhere.git", "HEAD"), `${"0123456789".repeat(4)}\n`);
  });
  after(() => cook?.stop());

  it("shows an empty repo as empty, with how to push to it", async () => {
    const text = await textOf("/repos/empty-one");
    assert.match(text, /This repo is empty/);
    assert.match(text, /git push origin main/);
  });

  it("shows a repo whose only ref is a tag: why there is no default branch, and the tag, leading to its files", async () => {
    const text = await textOf("/repos/only-tag");
    assert.ok(text.includes(missingDefault), text);
    assert.doesNotMatch(text, /This repo is empty/);
    const rows = await refRows("/repos/only-tag");
    assert.deepEqual(Object.keys(rows), ["inner"]);
    assert.equal(rows.inner!.href, "/repos/only-tag/tree/inner");
    const tree = await page(rows.inner!.href!);
    assert.deepEqual(tree.all("table", "tree").flatMap((t) => tree.all("a", undefined, t)).map((a) => tree.text(a)), ["src", "README.md"]);
  });

  it("shows a repo with branches but no default branch: why, and each branch", async () => {
    const text = await textOf("/repos/no-default");
    assert.ok(text.includes(missingDefault), text);
    const rows = await refRows("/repos/no-default");
    assert.deepEqual(Object.keys(rows).sort(), ["feature/x", "fix/y"]);
    assert.equal(rows["feature/x"]!.href, "/repos/no-default/tree/feature/x");
    assert.equal(rows["feature/x"]!.targetHref, `/repos/no-default/commit/${head}`);
    const commits = await textOf("/repos/no-default/commits/");
    assert.ok(commits.includes(missingDefault), commits);
  });

  it("lists each repo on /repos by what it holds: empty, or no default branch with its branches and tags", async () => {
    const parsed = await page("/repos");
    const rows = Object.fromEntries(
      parsed.all("tr").flatMap((row) => {
        const cells = parsed.all("td", undefined, row).map((cell) => parsed.text(cell).replace(/\s+/g, " ").trim());
        return cells.length === 4 ? [[cells[0], cells.slice(1, 3)]] : [];
      }),
    );
    assert.deepEqual(rows["empty-one"], ["main", "empty"]);
    assert.match(rows["only-tag"]![1]!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d · no default branch; 0 branches, 1 tag$/);
    assert.match(rows["no-default"]![1]!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d · no default branch; 2 branches, 0 tags$/);
    assert.match(rows["odd-tags"]![1]!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    const repos = ((await (await fetch(`${cook.url}/api/repos`)).json()) as { repos: Array<Record<string, unknown>> }).repos;
    const onlyTag = repos.find((repo) => repo.name === "only-tag")!;
    assert.deepEqual([onlyTag.defaultBranch, onlyTag.defaultBranchExists, onlyTag.branchCount, onlyTag.tagCount], ["main", false, 0, 1]);
    assert.match(String(onlyTag.lastCommitAt), /^\d{4}-/);
  });

  it("shows a repo whose HEAD is detached at that commit, in pages, the API and the CLI", async () => {
    const detachedAt = await revParse(work, "HEAD~1");
    const text = await textOf("/repos/detached");
    assert.ok(text.includes(`No default branch: HEAD is detached at ${detachedAt.slice(0, 12)}, shown here`), text);
    const home = await page("/repos/detached");
    assert.ok(home.links(home.all("main")[0]!).includes(`/repos/detached/commit/${detachedAt}`));
    assert.match(await textOf(`/repos/detached/tree/${detachedAt}/src`), /app\.ts/);
    assert.match(await textOf("/repos/detached/commits/"), /commit 1/);
    assert.doesNotMatch(await textOf("/repos/detached/commits/"), /commit 2/);
    assert.match(await textOf("/repos/detached/branches"), /main/);
    const listed = await textOf("/repos");
    assert.ok(listed.includes(`detached none: HEAD is detached at ${detachedAt.slice(0, 12)}`), listed);

    const api = (await (await fetch(`${cook.url}/api/repos/detached`)).json()) as { repo: Record<string, unknown> };
    assert.deepEqual([api.repo.defaultBranch, api.repo.detachedHead, api.repo.defaultBranchExists, api.repo.branchCount], [undefined, detachedAt, false, 2]);
    const cli = await cook.cli(["repo", "list"]);
    assert.match(cli.stdout, new RegExp(`\ndetached +\\(detached HEAD at ${detachedAt.slice(0, 12)}\\) +\\d{4}-`));

    // Git clones it as git does a detached HEAD; a push still goes through the hooks' policy.
    const clone = join(tempDir(), "c");
    await gitOk(["clone", "--quiet", `${cook.url}/detached.git`, clone]);
    assert.equal(await revParse(clone, "HEAD"), detachedAt);
    await gitOk(["push", "--quiet", "origin", "HEAD:refs/heads/from-detached"], { cwd: clone });
    assert.equal((await lsRemote(`${cook.url}/detached.git`))["refs/heads/from-detached"], detachedAt);

    // New work needs a base: there is no default branch to take.
    const refused = await cook.cli(["branch", "create", "detached", "work", "--env=none"]);
    assert.deepEqual([refused.code, refused.stderr], [1, `cook: detached has no default branch: its HEAD is detached at ${detachedAt.slice(0, 12)}; name a base branch, or point HEAD at one (git symbolic-ref HEAD refs/heads/<branch>)\n`]);
    assert.equal((await cook.cli(["branch", "create", "detached", "work", "--base=main", "--env=none"])).code, 0);
  });

  it("shows a repo whose HEAD holds a commit it does not have, with its branches and tags", async () => {
    const text = await textOf("/repos/detached-nowhere");
    assert.ok(text.includes(`HEAD is detached at ${"0123456789".repeat(4)}, a commit this repo does not have`), text);
    assert.ok(Object.keys(await refRows("/repos/detached-nowhere")).includes("main"));
    assert.match(await textOf("/repos/detached-nowhere/commits/"), /HEAD is detached/);
  });

  it("links each tag to what it names: a tree, a blob, or the commit at the end of a chain of tags", async () => {
    const rows = await refRows("/repos/odd-tags/tags");
    const tree = await revParse(work, "HEAD^{tree}");
    assert.deepEqual(rows["tree-tag"], { href: "/repos/odd-tags/tree/tree-tag", target: `tree ${tree.slice(0, 12)}`, targetHref: undefined });
    assert.deepEqual(rows["tree-annotated"], { href: "/repos/odd-tags/tree/tree-annotated", target: `tree ${tree.slice(0, 12)}`, targetHref: undefined });
    assert.equal(rows["blob-tag"]!.href, "/repos/odd-tags/blob/blob-tag");
    assert.match(rows["blob-tag"]!.target, /^blob [0-9a-f]{12}$/);
    assert.deepEqual(rows.outer, { href: "/repos/odd-tags/tree/outer", target: head.slice(0, 12), targetHref: `/repos/odd-tags/commit/${head}` });

    const treePage = await textOf("/repos/odd-tags/tree/tree-tag/src");
    assert.match(treePage, /app\.ts/);
    const blobPage = await textOf("/repos/odd-tags/blob/blob-tag");
    assert.match(blobPage, /read me first/);
    assert.doesNotMatch(blobPage, /History/); // a blob has no history to link to
  });

  it("lists a branch whose name is not UTF-8, linking to its tree", async () => {
    const rows = await refRows("/repos/odd-tags/branches");
    assert.equal(rows["caf\ufffd"]?.href, "/repos/odd-tags/tree/caf%E9");
    assert.match(await textOf("/repos/odd-tags/tree/caf%E9"), /README\.md/);
  });

  it("leads every link of these repos' pages to a page that exists", async () => {
    const repos = ["/repos/empty-one", "/repos/only-tag", "/repos/no-default", "/repos/odd-tags", "/repos/detached", "/repos/detached-nowhere"];
    const { statuses, broken } = await crawl(cook.url, repos, { within: repos });
    assert.deepEqual(broken, []);
    for (const repo of repos) {
      const reached = [...statuses.keys()].filter((path) => path.startsWith(`${repo}/`)).length;
      assert.ok(reached >= 3, `only ${reached} pages of ${repo} reached`);
    }
  });
});
