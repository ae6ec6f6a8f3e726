import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { git, gitOk, makeWorkRepo, revParse, tempDir } from "../../helpers/git.js";

describe("clone and fetch over smart HTTP", () => {
  let cook: RunningCook;
  let source: string;
  let url: string;

  before(async () => {
    cook = await startCook();
    // 30 commits, each touching a file, so shallow and partial clones have something to leave out.
    source = await makeWorkRepo(Array.from({ length: 30 }, (_, i) => ({ [`src/file-${i % 7}.txt`]: `version ${i}\n`.repeat(50 + i) })));
    const imported = await cook.cli(["repo", "add", "app", `--clone=${source}`]);
    assert.equal(imported.code, 0, imported.stderr);
    url = `${cook.url}/app.git`;
  });
  after(() => cook?.stop());

  const commitCount = async (dir: string) => Number((await gitOk(["rev-list", "--count", "HEAD"], { cwd: dir })).trim());

  it("negotiates protocol v2 with a default clone", async () => {
    const dir = join(tempDir(), "clone");
    const result = await git(["clone", url, dir], { env: { GIT_TRACE_PACKET: "1" } });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /< version 2/);
    assert.match(result.stderr, /> command=fetch/);
    assert.equal(await revParse(dir, "HEAD"), await revParse(source, "HEAD"));
    await gitOk(["fsck", "--strict"], { cwd: dir });
  });

  it("still serves protocol v0 clients", async () => {
    const dir = join(tempDir(), "clone");
    const result = await git(["-c", "protocol.version=0", "clone", url, dir], { env: { GIT_TRACE_PACKET: "1" } });
    assert.equal(result.code, 0, result.stderr);
    assert.doesNotMatch(result.stderr, /version 2/);
    assert.match(result.stderr, /# service=git-upload-pack/);
    assert.equal(await commitCount(dir), 30);
  });

  it("also answers the repo URL without .git", async () => {
    const dir = join(tempDir(), "clone");
    await gitOk(["clone", "--quiet", `${cook.url}/app`, dir]);
    assert.equal(await commitCount(dir), 30);
  });

  it("makes shallow clones, deepens them and unshallows them", async () => {
    const dir = join(tempDir(), "clone");
    await gitOk(["clone", "--quiet", "--depth", "1", url, dir]);
    assert.equal(await commitCount(dir), 1);
    assert.equal((await gitOk(["rev-parse", "--is-shallow-repository"], { cwd: dir })).trim(), "true");
    await gitOk(["fetch", "--quiet", "--deepen", "4"], { cwd: dir });
    assert.equal(await commitCount(dir), 5);
    await gitOk(["fetch", "--quiet", "--unshallow"], { cwd: dir });
    assert.equal(await commitCount(dir), 30);
    assert.equal((await gitOk(["rev-parse", "--is-shallow-repository"], { cwd: dir })).trim(), "false");
  });

  for (const version of ["2", "0"]) {
    it(`makes blobless partial clones that fetch blobs lazily (protocol v${version})`, async () => {
      const dir = join(tempDir(), "clone");
      await gitOk(["-c", `protocol.version=${version}`, "clone", "--quiet", "--filter=blob:none", "--no-checkout", url, dir]);
      const missing = (await gitOk(["rev-list", "--objects", "--all", "--missing=print"], { cwd: dir })).split("\n").filter((line) => line.startsWith("?"));
      assert.ok(missing.length >= 30, `blobs were left out: ${missing.length}`);
      // Checking out needs the blobs of HEAD: git fetches them from the server on demand.
      await gitOk(["-c", `protocol.version=${version}`, "checkout", "--quiet", "main"], { cwd: dir });
      assert.equal(readFileSync(join(dir, "src/file-1.txt"), "utf8"), readFileSync(join(source, "src/file-1.txt"), "utf8"));
      const stillMissing = (await gitOk(["rev-list", "--objects", "--all", "--missing=print"], { cwd: dir })).split("\n").filter((line) => line.startsWith("?"));
      assert.ok(stillMissing.length < missing.length, "blobs arrived");
    });
  }

  it("fetches when the client gzips a long negotiation", async () => {
    const dir = join(tempDir(), "clone");
    await gitOk(["clone", "--quiet", url, dir]);
    // 60 local commits the server has never seen: their `have` lines make the request body over
    // 1 KiB, which git compresses before sending.
    for (let i = 0; i < 60; i++) await gitOk(["commit", "--quiet", "--allow-empty", "-m", `local ${i}`], { cwd: dir });
    const extra = await makeWorkRepo([{ "other.txt": "other" }]);
    await gitOk(["push", "--quiet", join(source, ".git"), "HEAD:refs/heads/elsewhere"], { cwd: extra });
    assert.equal((await cook.cli(["repo", "add", "app2", `--clone=${source}`])).code, 0);

    const result = await git(["-c", "protocol.version=0", "fetch", `${cook.url}/app2.git`, "refs/heads/elsewhere"], { cwd: dir, env: { GIT_TRACE_CURL: "1", GIT_TRACE_CURL_NO_DATA: "1" } });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /Send header: Content-Encoding: gzip/);
    assert.equal(await revParse(dir, "FETCH_HEAD"), await revParse(extra, "HEAD"));
  });
});
