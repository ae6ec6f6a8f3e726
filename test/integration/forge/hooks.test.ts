import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { packageRoot } from "../../../src/config/package-root.js";
import { startCook } from "../../helpers/cook.js";
import { git, gitOk, makeWorkRepo } from "../../helpers/git.js";

describe("repo hooks", () => {
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
