import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { gitOk, lsRemote, makeWorkRepo, revParse } from "../../helpers/git.js";

interface EventSummary {
  type: string;
  repo: string;
  data: Record<string, unknown>;
}

describe("cook repo", () => {
  let cook: RunningCook;
  before(async () => {
    cook = await startCook();
  });
  after(() => cook?.stop());

  const events = async (repo: string) =>
    ((await (await fetch(`${cook.url}/api/events?subject=cook.*.${repo}.>&after=0`)).json()) as { events: EventSummary[] }).events;

  it("creates an empty bare repo with main as default branch, configured for the protocol features", async () => {
    const result = await cook.cli(["repo", "add", "empty-one"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `created empty-one: ${cook.url}/empty-one.git (default branch main)\n`);
    const gitDir = join(cook.dataDir, "repos", "empty-one.git");
    assert.equal(readFileSync(join(gitDir, "HEAD"), "utf8"), "ref: refs/heads/main\n");
    const config = await gitOk(["--git-dir", gitDir, "config", "--list", "--local"]);
    for (const line of ["uploadpack.allowfilter=true", "uploadpack.allowanysha1inwant=true", "receive.advertisepushoptions=true", "transfer.hiderefs=refs/archive/"]) {
      assert.ok(config.includes(line), `${line} in\n${config}`);
    }
    for (const hook of ["pre-receive", "post-receive"]) assert.ok(existsSync(join(gitDir, "hooks", hook)), hook);
    assert.deepEqual((await events("empty-one")).map((e) => e.type), ["repo.created"]);
  });

  it("imports every branch and tag from a local path, keeping its default branch", async () => {
    const source = await makeWorkRepo([{ "a.txt": "a" }, { "b.txt": "b" }], "trunk");
    await gitOk(["branch", "feature/x", "HEAD~1"], { cwd: source });
    await gitOk(["tag", "-a", "v1.0", "-m", "release", "HEAD"], { cwd: source });
    await gitOk(["tag", "light", "HEAD~1"], { cwd: source });

    const result = await cook.cli(["repo", "add", "imported", `--clone=${source}`, "--json"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).defaultBranch, "trunk");

    const refs = await lsRemote(`${cook.url}/imported.git`);
    assert.equal(refs["refs/heads/trunk"], await revParse(source, "trunk"));
    assert.equal(refs["refs/heads/feature/x"], await revParse(source, "feature/x"));
    assert.equal(refs["refs/tags/v1.0"], await revParse(source, "v1.0"));
    assert.equal(refs["refs/tags/light"], await revParse(source, "light"));
    assert.equal(refs.HEAD, refs["refs/heads/trunk"]);
    assert.deepEqual((await events("imported")).map((e) => e.type), ["repo.imported"]);
  });

  it("lists repos with default branch, last commit date and size", async () => {
    const json = JSON.parse((await cook.cli(["repo", "list", "--json"])).stdout) as Array<{ name: string; defaultBranch: string; lastCommitAt?: string; sizeBytes: number }>;
    const imported = json.find((r) => r.name === "imported")!;
    assert.equal(imported.defaultBranch, "trunk");
    assert.match(imported.lastCommitAt ?? "", /^\d{4}-\d\d-\d\dT/);
    assert.ok(imported.sizeBytes > 0);
    assert.equal(json.find((r) => r.name === "empty-one")!.lastCommitAt, undefined);

    const table = (await cook.cli(["repo", "list"])).stdout;
    assert.match(table, /^NAME +DEFAULT BRANCH +LAST COMMIT +SIZE\n/);
    assert.match(table, /\nimported +trunk +\d{4}-\d\d-\d\d \d\d:\d\d +[\d.]+ KiB\n/);
  });

  it("refuses an invalid name with 422 naming the rule, and creates nothing", async () => {
    for (const name of [".hidden", "a/b", "x".repeat(101), "name.git", "sp ace", "..", "ünïcode"]) {
      const response = await fetch(`${cook.url}/api/repos`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ name }) });
      assert.equal(response.status, 422, name);
      assert.match(((await response.json()) as { error: { message: string } }).error.message, /letters, digits, '\.', '_' or '-'/, name);
    }
    const cli = await cook.cli(["repo", "add", ".hidden"]);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /^cook: '\.hidden' is not a valid repo name: a repo name is 1-100 letters/);
    assert.deepEqual(readdirSync(join(cook.dataDir, "repos")).sort(), ["empty-one.git", "imported.git"]);
  });

  it("refuses a name that is taken with 409 and an import that fails with 422, keeping the existing repo", async () => {
    const taken = await cook.cli(["repo", "add", "imported"]);
    assert.deepEqual([taken.code, taken.stderr], [1, "cook: repo 'imported' already exists\n"]);
    const badSource = await cook.cli(["repo", "add", "from-nowhere", "--clone=/nonexistent/repo"]);
    assert.equal(badSource.code, 1);
    assert.match(badSource.stderr, /^cook: cannot import from '\/nonexistent\/repo': /);
    assert.equal(existsSync(join(cook.dataDir, "repos", "from-nowhere.git")), false);
    assert.equal((await lsRemote(`${cook.url}/imported.git`))["refs/heads/trunk"]?.length, 40);
  });

  it("moves a removed repo to the trash after confirmation, and refuses without it", async () => {
    await cook.cli(["repo", "add", "doomed"]);
    const unconfirmed = await cook.cli(["repo", "remove", "doomed"]);
    assert.deepEqual([unconfirmed.code, unconfirmed.stderr], [1, "cook: refusing to remove without confirmation: pass --yes\n"]);
    assert.ok(existsSync(join(cook.dataDir, "repos", "doomed.git")));

    const removed = await cook.cli(["repo", "remove", "doomed", "--yes"]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(existsSync(join(cook.dataDir, "repos", "doomed.git")), false);
    const trashed = readdirSync(join(cook.dataDir, "trash"));
    assert.equal(trashed.length, 1);
    assert.match(trashed[0]!, /^doomed-\d{4}-\d\d-\d\dT[\d-]+Z\.git$/);
    assert.ok(existsSync(join(cook.dataDir, "trash", trashed[0]!, "HEAD")), "kept whole in the trash");
    assert.deepEqual((await events("doomed")).map((e) => e.type), ["repo.created", "repo.removed"]);

    const again = await cook.cli(["repo", "remove", "doomed", "--yes"]);
    assert.deepEqual([again.code, again.stderr], [1, "cook: no repo named 'doomed'\n"]);
  });
});
