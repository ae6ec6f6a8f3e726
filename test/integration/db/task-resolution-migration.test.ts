import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Db } from "../../../src/db/db.js";
import { migrate, readMigrations } from "../../../src/db/migrate.js";
import { storeKinds, type OpenedStore } from "../../helpers/database.js";

const migrations = readMigrations();
const resolutionVersion = migrations.find((migration) => migration.name === "task_resolution")!.version;

const insert = (db: Db, id: string, status: string) =>
  db.query("INSERT INTO tasks (id, repo, title, priority, status) VALUES ($1, 'app', $1, 2, $2)", [id, status]);
const checkViolation = (err: unknown) => (err as { code?: string }).code === "23514";

for (const kind of storeKinds) {
  describe(`the task_resolution migration on ${kind.name}`, () => {
    let store: OpenedStore;
    before(async () => {
      store = await kind.open({ empty: true });
      await migrate(store.db, migrations.filter((migration) => migration.version < resolutionVersion));
      await insert(store.db, "closed-before", "closed");
      await insert(store.db, "open-before", "open");
      await migrate(store.db);
    });
    after(() => store?.close());

    it("marks every task closed before it as done and leaves the others without a resolution", async () => {
      const rows = await store.db.query<{ id: string; resolution: string | null }>("SELECT id, resolution FROM tasks ORDER BY id");
      assert.deepEqual(rows, [
        { id: "closed-before", resolution: "done" },
        { id: "open-before", resolution: null },
      ]);
    });

    it("refuses a closed task without a resolution, any other with one, and an unknown one", async () => {
      await assert.rejects(insert(store.db, "closed-bare", "closed"), checkViolation);
      await assert.rejects(store.db.query("UPDATE tasks SET status = 'open' WHERE id = 'closed-before'"), checkViolation);
      await assert.rejects(store.db.query("UPDATE tasks SET resolution = 'wontfix' WHERE id = 'open-before'"), checkViolation);
      await assert.rejects(store.db.query("UPDATE tasks SET resolution = 'fixed' WHERE id = 'closed-before'"), checkViolation);
      const rows = await store.db.query<{ id: string; status: string; resolution: string | null }>("SELECT id, status, resolution FROM tasks ORDER BY id");
      assert.deepEqual(rows, [
        { id: "closed-before", status: "closed", resolution: "done" },
        { id: "open-before", status: "open", resolution: null },
      ]);
    });

    it("takes status and resolution changed in one statement, in either order", async () => {
      await store.db.query("UPDATE tasks SET resolution = NULL, status = 'open' WHERE id = 'closed-before'");
      await store.db.query("UPDATE tasks SET status = 'closed', resolution = 'wontfix' WHERE id = 'open-before'");
      const rows = await store.db.query<{ id: string; resolution: string | null }>("SELECT id, resolution FROM tasks ORDER BY id");
      assert.deepEqual(rows, [
        { id: "closed-before", resolution: null },
        { id: "open-before", resolution: "wontfix" },
      ]);
    });
  });
}
