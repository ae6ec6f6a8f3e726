import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Db } from "../../../src/db/db.js";
import { migrate, readMigrations } from "../../../src/db/migrate.js";
import { storeKinds, type OpenedStore } from "../../helpers/database.js";

const migrations = readMigrations();
const parentVersion = migrations.find((migration) => migration.name === "task_parent")!.version;

// Before the migration `parent` was an extra front-matter key like any other, kept with its YAML.
const insert = (db: Db, id: string, repo: string, extra: string, extraYaml: string) =>
  db.query("INSERT INTO tasks (id, repo, title, priority, status, extra, extra_yaml) VALUES ($1, $2, $1, 2, 'open', $3::json, $4::json)", [id, repo, extra, extraYaml]);

for (const kind of storeKinds) {
  describe(`the task_parent migration on ${kind.name}`, () => {
    let store: OpenedStore;
    before(async () => {
      store = await kind.open({ empty: true });
      await migrate(store.db, migrations.filter((migration) => migration.version < parentVersion));
      await insert(store.db, "epic", "app", "{}", "{}");
      await insert(store.db, "child", "app", '{"z": 1, "parent": "epic", "a": "x"}', '{"z": "z: 1\\n", "parent": "parent: epic\\n", "a": "a: x\\n"}');
      await insert(store.db, "stranger", "other", '{"parent": "epic"}', "{}");
      await insert(store.db, "dangling", "app", '{"parent": "gone"}', "{}");
      await insert(store.db, "listy", "app", '{"parent": ["epic"]}', "{}");
      await insert(store.db, "itself", "app", '{"parent": "itself"}', "{}");
      await migrate(store.db);
    });
    after(() => store?.close());

    it("makes a parent naming a task of the same repo the field, keeping the other extra keys in their order", async () => {
      const rows = await store.db.query<{ id: string; parent: string | null; extra: Record<string, unknown>; extra_yaml: Record<string, string> }>("SELECT id, parent, extra, extra_yaml FROM tasks ORDER BY id");
      const byId = new Map(rows.map((row) => [row.id, row]));
      assert.equal(byId.get("child")!.parent, "epic");
      assert.deepEqual(Object.entries(byId.get("child")!.extra), [["z", 1], ["a", "x"]]);
      assert.deepEqual(Object.keys(byId.get("child")!.extra_yaml), ["z", "a"]);
      assert.equal(byId.get("epic")!.parent, null);
    });

    it("keeps a parent that names another repo's task, no task, itself, or is no id, as unresolved_parent", async () => {
      const rows = await store.db.query<{ id: string; parent: string | null; extra: Record<string, unknown> }>("SELECT id, parent, extra FROM tasks WHERE id IN ('stranger', 'dangling', 'listy', 'itself') ORDER BY id");
      assert.deepEqual(rows.map((row) => [row.id, row.parent, Object.keys(row.extra)]), [
        ["dangling", null, ["unresolved_parent"]],
        ["itself", null, ["unresolved_parent"]],
        ["listy", null, ["unresolved_parent"]],
        ["stranger", null, ["unresolved_parent"]],
      ]);
      assert.deepEqual(rows.find((row) => row.id === "listy")!.extra, { unresolved_parent: ["epic"] });
    });
  });
}
