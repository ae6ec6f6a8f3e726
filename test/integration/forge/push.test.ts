import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { git, gitOk, lsRemote, makeWorkRepo, revParse, tempDir } from "../../helpers/git.js";
import { eventually } from "../../helpers/wait.js";

interface PushEvent {
  id: number;
  type: string;
  branch?: string;
  data: { ref: string; oldSha: string; newSha: string; pusher: string; pushOptions: string[]; tag?: string };
}

describe("push over smart HTTP", () => {
  let cook: RunningCook;
  let url: string;
  let work: string;

  before(async () => {
    cook = await startCook();
    assert.equal((await cook.cli(["repo", "add", "shop"])).code, 0);
    url = `${cook.url}/shop.git`;
    work = join(tempDir(), "shop");
  });
  after(() => cook?.stop());

  const pushEvents = async (after = 0) =>
    ((await (await fetch(`${cook.url}/api/events?after=${after}&subject=cook.*.shop.>`)).json()) as { events: PushEvent[] }).events.filter((e) => e.data?.ref !== undefined); // the forge's ref events, not the branch service's records of them
  const lastEventId = async () => ((await (await fetch(`${cook.url}/api/events?limit=1`)).json()) as { events: PushEvent[] }).events[0]?.id ?? 0;
  const commit = async (message: string, files: Record<string, string | Buffer> = { [`${message}.txt`]: message }) => {
    for (const [path, content] of Object.entries(files)) writeFileSync(join(work, path), content);
    await gitOk(["add", "--all"], { cwd: work });
    await gitOk(["commit", "--quiet", "-m", message], { cwd: work });
    return revParse(work, "HEAD");
  };

  it("clones an empty repo and lets the first push create the default branch", async () => {
    const cloned = await git(["clone", url, work]);
    assert.equal(cloned.code, 0, cloned.stderr);
    assert.match(cloned.stderr, /cloned an empty repository/);
    const head = await commit("first");
    await gitOk(["push", "--quiet", "origin", "main"], { cwd: work });
    assert.equal((await lsRemote(url))["refs/heads/main"], head);
    const events = await pushEvents();
    assert.deepEqual(events.map((e) => [e.type, e.branch, e.data.newSha, e.data.pusher]), [["branch.pushed", "main", head, "local"]]);
  });

  it("refuses a direct push to the default branch with the reason, changing nothing and announcing nothing", async () => {
    const before = await lastEventId();
    const mainBefore = (await lsRemote(url))["refs/heads/main"];
    await commit("direct");
    const result = await git(["push", "origin", "main"], { cwd: work });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /remote: cook: branch 'main' is protected: it moves only by merging/);
    assert.match(result.stderr, /! \[remote rejected\] main -> main \(pre-receive hook declined\)/);
    assert.equal((await lsRemote(url))["refs/heads/main"], mainBefore);

    const deletion = await git(["push", "origin", ":main"], { cwd: work });
    assert.match(deletion.stderr, /remote: cook: branch 'main' is protected and cannot be deleted/);
    assert.equal((await lsRemote(url))["refs/heads/main"], mainBefore);
    assert.deepEqual(await pushEvents(before), []);
    await gitOk(["reset", "--quiet", "--hard", "origin/main"], { cwd: work });
  });

  it("accepts pushes under and over 1 MiB; the large one arrives chunked", async () => {
    await gitOk(["checkout", "--quiet", "-b", "assets"], { cwd: work });
    const small = await commit("small", { "small.bin": randomBytes(200 * 1024) });
    await gitOk(["push", "--quiet", "origin", "assets"], { cwd: work });
    assert.equal((await lsRemote(url))["refs/heads/assets"], small);

    const large = await commit("large", { "large.bin": randomBytes(3 * 1024 * 1024) });
    const result = await git(["push", "origin", "assets"], { cwd: work, env: { GIT_TRACE_CURL: "1", GIT_TRACE_CURL_NO_DATA: "1" } });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /Transfer-Encoding: chunked/);
    assert.equal((await lsRemote(url))["refs/heads/assets"], large);
    await gitOk(["--git-dir", join(cook.dataDir, "repos", "shop.git"), "fsck", "--strict"]);
  });

  for (const atomic of [false, true]) {
    it(`announces each ref of a push with a branch, a tag and a deletion${atomic ? " (--atomic)" : ""}`, async () => {
      const suffix = atomic ? "a" : "n";
      await gitOk(["checkout", "--quiet", "-b", `doomed-${suffix}`, "main"], { cwd: work });
      await commit(`doomed-${suffix}`);
      await gitOk(["push", "--quiet", "origin", `doomed-${suffix}`], { cwd: work });
      await gitOk(["checkout", "--quiet", "-b", `feature-${suffix}`, "main"], { cwd: work });
      const feature = await commit(`feature-${suffix}`);
      await gitOk(["tag", `v1-${suffix}`], { cwd: work });

      const before = await lastEventId();
      const args = ["push", ...(atomic ? ["--atomic"] : []), "origin", `feature-${suffix}`, `refs/tags/v1-${suffix}`, `:doomed-${suffix}`];
      const result = await git(args, { cwd: work });
      assert.equal(result.code, 0, result.stderr);
      const events = await pushEvents(before);
      assert.deepEqual(
        events.map((e) => [e.type, e.branch ?? e.data.tag]).sort(),
        [["branch.pushed", `feature-${suffix}`], ["branch.deleted", `doomed-${suffix}`], ["tag.created", `v1-${suffix}`]].sort(),
      );
      const refs = await lsRemote(url);
      assert.equal(refs[`refs/heads/feature-${suffix}`], feature);
      assert.equal(refs[`refs/heads/doomed-${suffix}`], undefined);
      assert.equal(refs[`refs/tags/v1-${suffix}`], feature);
    });
  }

  it("refuses an atomic push that includes a protected ref as a whole", async () => {
    const before = await lastEventId();
    await gitOk(["checkout", "--quiet", "main"], { cwd: work });
    await commit("sneaky");
    await gitOk(["branch", "innocent"], { cwd: work });
    const result = await git(["push", "--atomic", "origin", "main", "innocent"], { cwd: work });
    assert.notEqual(result.code, 0);
    assert.equal((await lsRemote(url))["refs/heads/innocent"], undefined);
    assert.deepEqual(await pushEvents(before), []);
    await gitOk(["reset", "--quiet", "--hard", "origin/main"], { cwd: work });
  });

  it("passes push options into the event", async () => {
    await gitOk(["checkout", "--quiet", "-b", "with-options", "main"], { cwd: work });
    await commit("options");
    const before = await lastEventId();
    await gitOk(["push", "--quiet", "-o", "ci.skip", "-o", "reviewer=ana", "origin", "with-options"], { cwd: work });
    const [event] = await pushEvents(before);
    assert.deepEqual(event?.data.pushOptions, ["ci.skip", "reviewer=ana"]);
    assert.equal(event?.type, "branch.pushed");

    await commit("options-2");
    const before2 = await lastEventId();
    await gitOk(["push", "--quiet", "-o", "second", "origin", "with-options"], { cwd: work });
    const [pushed] = await pushEvents(before2);
    assert.deepEqual([pushed?.type, pushed?.data.pushOptions], ["branch.pushed", ["second"]]);
  });

  it("keeps existing tags where they are and refuses refs outside branches and tags", async () => {
    await gitOk(["tag", "--force", "v1-n", "main"], { cwd: work });
    const moved = await git(["push", "--force", "origin", "refs/tags/v1-n"], { cwd: work });
    assert.match(moved.stderr, /remote: cook: tag 'v1-n' already exists: tags cannot be moved here/);
    const review = await git(["push", "origin", "HEAD:refs/for/main"], { cwd: work });
    assert.match(review.stderr, /remote: cook: refs\/for\/main: only branches \(refs\/heads\/\) and tags \(refs\/tags\/\) can be pushed/);
    assert.equal((await lsRemote(url))["refs/for/main"], undefined);
  });

  it("refuses a push made straight into the repository on disk, bypassing the server", async () => {
    await gitOk(["checkout", "--quiet", "-b", "bypass", "main"], { cwd: work });
    await commit("bypass");
    const onDisk = join(cook.dataDir, "repos", "shop.git");
    const result = await git(["push", onDisk, "bypass"], { cwd: work });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /remote: cook: push through the cook server/);

    // The hook's settings come from the pusher's environment here: a guessed secret or a dead server refuses too.
    const guessed = await git(["push", onDisk, "bypass"], { cwd: work, env: { COOK_HOOK_URL: cook.url, COOK_HOOK_SECRET: "guessed", COOK_REPO: "shop", COOK_PUSHER: '{"name":"x","scope":"admin"}' } });
    assert.notEqual(guessed.code, 0);
    assert.match(guessed.stderr, /remote: cook: not a hook of this server/);
    const unreachable = await git(["push", onDisk, "bypass"], { cwd: work, env: { COOK_HOOK_URL: "http://127.0.0.1:9", COOK_HOOK_SECRET: "x" } });
    assert.notEqual(unreachable.code, 0);
    assert.match(unreachable.stderr, /remote: cook: cannot reach the cook server at http:\/\/127\.0\.0\.1:9 to check this push/);
    assert.equal((await lsRemote(url))["refs/heads/bypass"], undefined);
  });

  it("records and announces every ref of a push that moves hundreds of refs, in the push's order", async () => {
    const before = await lastEventId();
    const head = await revParse(work, "HEAD");
    const names = Array.from({ length: 300 }, (_, n) => `many/${String(n).padStart(3, "0")}`);
    await gitOk(["update-ref", "--stdin"], { cwd: work, input: names.map((name) => `create refs/heads/${name} ${head}\n`).join("") });
    await gitOk(["push", "--quiet", "-o", "batch", "origin", ...names.map((name) => `refs/heads/${name}`)], { cwd: work });

    const events = await eventually(async () => {
      const page = (await (await fetch(`${cook.url}/api/events?after=${before}&limit=1000&subject=cook.branch.shop.>`)).json()) as { events: PushEvent[] };
      // The forge's own events: the branch service adds a `created` for each new branch, after.
      const forge = page.events.filter((e) => e.type !== "branch.created");
      return forge.length >= names.length ? forge : undefined;
    });
    assert.deepEqual(events.map((e) => [e.type, e.branch, e.data.newSha, e.data.pushOptions]), names.map((name) => ["branch.pushed", name, head, ["batch"]]));
    const refs = await lsRemote(url);
    assert.ok(names.every((name) => refs[`refs/heads/${name}`] === head));
  });

  it("lets a push create the default branch after other branches came first, and protects it from then on", async () => {
    assert.equal((await cook.cli(["repo", "add", "late"])).code, 0);
    const lateUrl = `${cook.url}/late.git`;
    const late = await makeWorkRepo([{ "a.txt": "a" }]);
    await gitOk(["push", "--quiet", lateUrl, "main:refs/heads/feature"], { cwd: late });
    assert.deepEqual(Object.keys(await lsRemote(lateUrl)), ["refs/heads/feature"]);

    const created = await git(["push", lateUrl, "main"], { cwd: late });
    assert.equal(created.code, 0, created.stderr);
    const mainHead = await revParse(late, "main");
    assert.equal((await lsRemote(lateUrl))["refs/heads/main"], mainHead);
    const clone = join(tempDir(), "late");
    const cloned = await git(["clone", lateUrl, clone]);
    assert.equal(cloned.code, 0, cloned.stderr);
    assert.doesNotMatch(cloned.stderr, /remote HEAD refers to nonexistent ref/);
    assert.equal(await revParse(clone, "HEAD"), mainHead);

    await gitOk(["commit", "--quiet", "--allow-empty", "-m", "direct"], { cwd: late });
    const again = await git(["push", lateUrl, "main"], { cwd: late });
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /remote: cook: branch 'main' is protected: it moves only by merging/);
    assert.equal((await lsRemote(lateUrl))["refs/heads/main"], mainHead);
  });

  it("lets exactly one of two racing pushes to a branch win, leaving a sound repository", async () => {
    const racers: string[] = [];
    for (const name of ["left", "right"]) {
      const dir = join(tempDir(), name);
      await gitOk(["clone", "--quiet", url, dir]);
      await gitOk(["checkout", "--quiet", "-b", "race", "origin/with-options"], { cwd: dir });
      writeFileSync(join(dir, `${name}.txt`), randomBytes(64 * 1024));
      await gitOk(["add", "--all"], { cwd: dir });
      await gitOk(["commit", "--quiet", "-m", name], { cwd: dir });
      racers.push(dir);
    }
    const results = await Promise.all(racers.map((dir) => git(["push", "origin", "race"], { cwd: dir })));
    const winners = results.filter((r) => r.code === 0);
    assert.equal(winners.length, 1, results.map((r) => r.stderr).join("\n---\n"));
    const winner = racers[results.indexOf(winners[0]!)]!;
    assert.equal((await lsRemote(url))["refs/heads/race"], await revParse(winner, "HEAD"));
    await gitOk(["--git-dir", join(cook.dataDir, "repos", "shop.git"), "fsck", "--strict"]);
  });
});
