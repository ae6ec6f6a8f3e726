import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import pg from "pg";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { createTestDatabase, type TestDatabase } from "../../helpers/database.js";
import { gitOk, makeWorkRepo, revParse } from "../../helpers/git.js";
import { eventually } from "../../helpers/wait.js";

// "A durable subscriber, so a restart in between loses nothing": a push event that reaches the log
// while the factory is down (as one committed by post-receive just before a crash) still becomes a
// branch record when it comes back — on the embedded bus and on NATS JetStream alike.
for (const bus of ["local", "nats"] as const) {
  describe(`push tracking across a restart (${bus} bus)`, () => {
    let cook: RunningCook | undefined;
    let database: TestDatabase | undefined;
    after(async () => {
      await cook?.stop();
      await database?.drop();
    });

    it("makes the record of a branch pushed while the branch service was away, once", async () => {
      database = await createTestDatabase();
      const env = { COOK_DATABASE_URL: database.url, ...(bus === "nats" ? { COOK_NATS_URL: process.env.COOK_TEST_NATS_URL ?? "nats://127.0.0.1:4222" } : {}) };
      cook = await startCook({ env });
      const seed = await makeWorkRepo([{ "a.txt": "a\n" }]);
      assert.equal((await cook.cli(["repo", "add", "app", `--clone=${seed}`])).code, 0);
      const task = JSON.parse((await cook.cli(["task", "create", "app", "--title=While away", "--json"])).stdout) as { id: string };
      const { dataDir } = cook;
      assert.equal(await cook.stop(), 0);

      // While it is down: the ref moves on disk and the forge's event is in the log, unpublished.
      const head = await revParse(seed, "HEAD");
      await gitOk(["--git-dir", join(dataDir, "repos", "app.git"), "update-ref", "refs/heads/while-away", head]);
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      const data = { ref: "refs/heads/while-away", oldSha: "0".repeat(40), newSha: head, pusher: "local", pushOptions: [`task=${task.id}`] };
      await client.query("INSERT INTO events (subject, type, repo, branch, data) VALUES ($1, 'branch.pushed', 'app', 'while-away', $2)", ["cook.branch.app.while-away.pushed", JSON.stringify(data)]);
      await client.end();

      cook = await startCook({ env: { ...env, COOK_DATA_DIR: dataDir } });
      const branch = await eventually(async () => {
        const list = JSON.parse((await cook!.cli(["branch", "list", "--json"])).stdout) as Array<{ name: string; origin: string; taskId?: string }>;
        return list.find((b) => b.name === "while-away");
      }, 20_000, "the record of the branch pushed while away");
      assert.deepEqual([branch.origin, branch.taskId], ["push", task.id]);
      // A second restart replays nothing twice.
      assert.equal(await cook.stop(), 0);
      cook = await startCook({ env: { ...env, COOK_DATA_DIR: dataDir } });
      await new Promise((resolve) => setTimeout(resolve, 500));
      const listed = (await cook.cli(["events", "list", "-s", "cook.branch.app.while-away.created", "--json"])).stdout.split("\n").filter(Boolean);
      assert.equal(listed.length, 1);
    });
  });
}
