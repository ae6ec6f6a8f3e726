import { mkdirSync } from "node:fs";
import { PGlite, types } from "@electric-sql/pglite";
import { runWithCommitHooks, type Db, type Queryable, type Row } from "./db.js";

const parsers = { [types.INT8]: (value: string) => Number(value) };

/** The embedded database: real PostgreSQL compiled to WASM, kept in `dir` (one process at a time). */
export async function openPglite(dir: string | undefined): Promise<Db> {
  if (dir) mkdirSync(dir, { recursive: true });
  const db = await PGlite.create(dir ? { dataDir: dir, parsers } : { parsers });

  const runner = (target: Pick<PGlite, "query" | "exec">): Queryable => ({
    async query<R extends Row>(sql: string, params: readonly unknown[] = []) {
      const result = await target.query<R>(sql, params as unknown[]);
      return result.rows;
    },
    async exec(sql: string) {
      await target.exec(sql);
    },
  });

  return {
    kind: "pglite",
    ...runner(db),
    transaction: (work) => runWithCommitHooks((attach) => db.transaction((tx) => work(attach(runner(tx))))),
    async close() {
      await db.close();
    },
  };
}
