import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runCli, startCook, type CliResult, type RunningCook } from "../../helpers/cook.js";

describe("cook task import refuses what it cannot read, with one line and exit 1", () => {
  let cook: RunningCook;
  const dir = mkdtempSync(join(tmpdir(), "cook-task-import-"));
  chmodSync(dir, 0o755);

  before(async () => {
    cook = await startCook();
    assert.equal((await cook.cli(["repo", "add", "myapp"])).code, 0);
  });
  after(() => cook?.stop());

  const refused = (result: CliResult, message: string | RegExp) => {
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /^cook: [^\n]+\n$/);
    if (typeof message === "string") assert.equal(result.stderr, `cook: ${message}\n`);
    else assert.match(result.stderr, message);
  };
  const noTasks = async () => {
    const list = await cook.cli(["task", "list", "--json"]);
    assert.deepEqual(JSON.parse(list.stdout), []);
  };

  it("refuses /dev/null and an empty file as not task files", async () => {
    refused(await cook.cli(["task", "import", "/dev/null"]), "/dev/null: line 1: a task file starts with a '---' line, then YAML front matter, then another '---' line");
    writeFileSync(join(dir, "empty.md"), "");
    refused(await cook.cli(["task", "import", join(dir, "empty.md")]), `${join(dir, "empty.md")}: line 1: a task file starts with a '---' line, then YAML front matter, then another '---' line`);
    await noTasks();
  });

  it("refuses a folder holding a FIFO named .md instead of waiting on it forever", async () => {
    const folder = join(dir, "with-fifo");
    mkdirSync(folder);
    writeFileSync(join(folder, "a.md"), "---\ntitle: A\nrepo: myapp\n---\n");
    execFileSync("mkfifo", [join(folder, "b.md")]);
    refused(await cook.cli(["task", "import", folder]), `${join(folder, "b.md")} is not a regular file`);
    await noTasks();
  });

  it("refuses a file it may not read, one that is not UTF-8, and an endless one", async () => {
    const secret = join(dir, "secret.md");
    writeFileSync(secret, "---\ntitle: Secret\nrepo: myapp\n---\n");
    chmodSync(secret, 0o000);
    // root reads any file, so as root the CLI runs as nobody, for whom the file is unreadable.
    const asNobody = process.getuid?.() === 0;
    const result = await runCli(["task", "import", secret], { env: { COOK_SERVER: cook.url, HOME: dir }, ...(asNobody ? { uid: 65534, gid: 65534 } : {}) });
    refused(result, `cannot read ${secret}: EACCES`);

    writeFileSync(join(dir, "latin1.md"), Buffer.from("---\ntitle: Caf\xe9\nrepo: myapp\n---\n", "latin1"));
    refused(await cook.cli(["task", "import", join(dir, "latin1.md")]), `${join(dir, "latin1.md")} is not UTF-8 text`);
    refused(await cook.cli(["task", "import", "/dev/zero"]), "/dev/zero is larger than 2 MiB; a task file is at most that");
    await noTasks();
  });
});
