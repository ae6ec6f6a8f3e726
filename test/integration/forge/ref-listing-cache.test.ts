import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createGit } from "../../../src/git/git.js";
import { listRefs } from "../../../src/git/refs.js";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { gitOk, makeWorkRepo, revParse, tempDir } from "../../helpers/git.js";
import { eventually } from "../../helpers/wait.js";

// Ref listings are remembered between page views (a git process each, otherwise); every way refs
// move must make the next page show the new refs at once.

describe("remembered ref listings", () => {
  let cook: RunningCook;
  let work: string;
  before(async () => {
    cook = await startCook();
    assert.equal((await cook.cli(["repo", "add", "cached"])).code, 0);
    work = await makeWorkRepo([{ "a.txt": "a\n" }]);
    await gitOk(["push", "--quiet", `${cook.url}/cached.git`, "main"], { cwd: work });
  });
  after(() => cook?.stop());

  const branchesPage = async () => (await (await fetch(`${cook.url}/repos/cached/branches`)).text());

  it("shows a pushed branch, a moved branch and a deleted branch on the very next page view", async () => {
    assert.doesNotMatch(await branchesPage(), /fresh-branch/);
    await gitOk(["push", "--quiet", `${cook.url}/cached.git`, "main:fresh-branch"], { cwd: work });
    assert.match(await branchesPage(), /fresh-branch/);

    await gitOk(["commit", "--quiet", "--allow-empty", "-m", "moved on"], { cwd: work });
    await gitOk(["push", "--quiet", `${cook.url}/cached.git`, "HEAD:fresh-branch"], { cwd: work });
    assert.match(await branchesPage(), new RegExp((await revParse(work, "HEAD")).slice(0, 12)));

    await gitOk(["push", "--quiet", `${cook.url}/cached.git`, ":fresh-branch"], { cwd: work });
    assert.doesNotMatch(await branchesPage(), /fresh-branch/);
  });

  it("forgets a listing after any git command that may move refs, and keeps it after one that only reads", async () => {
    const dir = join(tempDir(), "bare.git");
    await gitOk(["clone", "--quiet", "--bare", work, dir]);
    const git = createGit();
    try {
      const names = async () => (await listRefs(git, dir)).map((ref) => ref.short).sort();
      assert.deepEqual(await names(), ["main"]);
      await gitOk(["--git-dir", dir, "branch", "behind-our-back", "main"]);
      assert.deepEqual(await names(), ["main"], "a change Cook did not make is seen only when the listing expires");
      await git.run(dir, ["rev-parse", "main"]);
      assert.deepEqual(await names(), ["main"], "reading does not forget");
      await git.run(dir, ["update-ref", "refs/heads/by-cook", "main"]);
      assert.deepEqual(await names(), ["behind-our-back", "by-cook", "main"]);
    } finally {
      git.close();
    }
  });

  it("sees refs moved by hand once a listing is older than its time limit", async () => {
    const dir = join(tempDir(), "bare.git");
    await gitOk(["clone", "--quiet", "--bare", work, dir]);
    const git = createGit({ refListingMs: 50 });
    try {
      assert.equal((await listRefs(git, dir)).length, 1);
      await gitOk(["--git-dir", dir, "branch", "by-hand", "main"]);
      await new Promise((resolve) => setTimeout(resolve, 60));
      assert.equal((await listRefs(git, dir)).length, 2);
    } finally {
      git.close();
    }
  });

  it("answers an expired listing at once when asked to revalidate, and the fresh one on the next ask", async () => {
    const dir = join(tempDir(), "bare.git");
    await gitOk(["clone", "--quiet", "--bare", work, dir]);
    const git = createGit({ refListingMs: 50 });
    const names = async () => (await listRefs(git, dir, ["refs/heads/"], { revalidate: true })).map((ref) => ref.short).sort();
    try {
      assert.deepEqual(await names(), ["main"]);
      await gitOk(["--git-dir", dir, "branch", "by-hand", "main"]);
      await new Promise((resolve) => setTimeout(resolve, 60));
      assert.deepEqual(await names(), ["main"], "the expired listing, without waiting for git");
      await eventually(async () => ((await names()).length === 2 ? true : undefined), 5_000, "the listing read in the background");
      assert.deepEqual(await names(), ["by-hand", "main"]);

      // A ref Cook moves is never answered stale, revalidating or not.
      await git.run(dir, ["update-ref", "refs/heads/by-cook", "main"]);
      assert.deepEqual(await names(), ["by-cook", "by-hand", "main"]);
    } finally {
      git.close();
    }
  });
});
