import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { packageRoot } from "../../../src/config/package-root.js";
import { startCook } from "../../helpers/cook.js";
import { git, gitOk, makeWorkRepo, tempDir } from "../../helpers/git.js";

describe("repo hooks", () => {
  it("keep the hook secret off every command line while a push is checked and recorded", async () => {
    // A `cat` in front of the real one: while a hook reads its input, it records every process's
    // command line, as `ps` would show them to any user of the machine.
    const bin = tempDir("cook-ps-");
    const log = join(bin, "ps.log");
    const realCat = execFileSync("sh", ["-c", "command -v cat"], { encoding: "utf8" }).trim();
    const snapshot = `for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < "$f"; echo; done >> '${log}' 2>/dev/null`;
    writeFileSync(join(bin, "cat"), `#!/bin/sh\n${snapshot}\nexec '${realCat}' "$@"\n`, { mode: 0o755 });
    const cook = await startCook({ env: { PATH: `${bin}:${process.env.PATH ?? ""}` } });
    try {
      assert.equal((await cook.cli(["repo", "add", "quiet"])).code, 0);
      const work = await makeWorkRepo([{ "a.txt": "a" }]);
      await gitOk(["push", "--quiet", `${cook.url}/quiet.git`, "main", "main:refs/heads/side"], { cwd: work });

      const secret = readFileSync(join(cook.dataDir, "hook-secret"), "utf8").trim();
      const seen = readFileSync(log, "utf8");
      assert.match(seen, /hooks\/pre-receive/);
      assert.match(seen, /hooks\/post-receive/);
      assert.ok(!seen.includes(secret), seen);
    } finally {
      await cook.stop();
    }
  });

  it("are restored at server start when a repo's copy was changed, and go on enforcing policy", async () => {
    const cook = await startCook();
    assert.equal((await cook.cli(["repo", "add", "kept"])).code, 0);
    const hook = join(cook.dataDir, "repos", "kept.git", "hooks", "pre-receive");
    writeFileSync(hook, "#!/bin/sh\nexit 0\n"); // a hook that would let anything through
    assert.equal(await cook.stop(), 0);

    const restarted = await startCook({ env: { COOK_DATA_DIR: cook.dataDir } });
    try {
      assert.equal(readFileSync(hook, "utf8"), readFileSync(join(packageRoot(), "hooks", "pre-receive"), "utf8"));
      const work = await makeWorkRepo([{ "a.txt": "a" }]);
      await gitOk(["push", "--quiet", `${restarted.url}/kept.git`, "main"], { cwd: work });
      await gitOk(["commit", "--quiet", "--allow-empty", "-m", "direct"], { cwd: work });
      const refused = await git(["push", `${restarted.url}/kept.git`, "main"], { cwd: work });
      assert.match(refused.stderr, /remote: cook: branch 'main' is protected/);
    } finally {
      await restarted.stop();
    }
  });
});
