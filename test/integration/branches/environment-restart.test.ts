import assert from "node:assert/strict";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { seedAppRepo } from "../../helpers/branch-fixture.js";
import { gitOk } from "../../helpers/git.js";
import { eventually } from "../../helpers/wait.js";

interface Shown {
  environment?: { state: string; error?: string; path: string };
}

describe("environments across a restart", () => {
  let cook: RunningCook | undefined;
  after(() => cook?.stop());

  it("keeps environments, marks one whose folder vanished lost and one whose setup was cut off failed", async () => {
    cook = await startCook();
    const { work } = await seedAppRepo(cook);
    await gitOk(["checkout", "--quiet", "-b", "slow-setup"], { cwd: work });
    writeFileSync(join(work, "cook.toml"), '[environment]\nsetup = "echo started; sleep 60"\n');
    await gitOk(["add", "."], { cwd: work });
    await gitOk(["commit", "--quiet", "-m", "slow"], { cwd: work });
    await gitOk(["push", "--quiet", "origin", "slow-setup"], { cwd: work });

    const show = async (name: string) => JSON.parse((await cook!.cli(["branch", "show", name, "--json"])).stdout) as Shown;
    assert.equal((await cook.cli(["branch", "create", "app", "kept"])).code, 0);
    assert.equal((await cook.cli(["branch", "create", "app", "vanishes"])).code, 0);
    assert.equal((await cook.cli(["branch", "create", "app", "interrupted", "--base=slow-setup", "--no-wait"])).code, 0);
    await eventually(async () => /started/.test(JSON.parse((await cook!.cli(["branch", "show", "interrupted", "--json"])).stdout).setupLog) || undefined, 20_000, "the setup script to start");
    const kept = (await show("kept")).environment!;
    const vanishing = (await show("vanishes")).environment!;

    const { dataDir } = cook;
    assert.equal(await cook.stop(), 0);
    rmSync(vanishing.path, { recursive: true, force: true });
    cook = await startCook({ env: { COOK_DATA_DIR: dataDir } });

    assert.equal((await show("kept")).environment?.state, "ready");
    assert.ok(existsSync(kept.path));
    const lost = (await show("vanishes")).environment!;
    assert.equal(lost.state, "lost");
    assert.match(lost.error ?? "", /was gone when the server started/);
    const failed = (await show("interrupted")).environment!;
    assert.equal(failed.state, "failed");
    assert.match(failed.error ?? "", /the server stopped while the environment was being set up/);
    const ran = await cook.cli(["branch", "exec", "kept", "--", "cat", "README.md"]);
    assert.equal(ran.stdout, "# app\n");
  });
});
