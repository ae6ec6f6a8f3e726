import pg from "pg";
import { runWithCommitHooks, type Db, type Queryable, type Row } from "./db.js";

// int8 (bigserial ids, counts) arrive as strings by default; every such value in Cook fits in a double.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export function openPostgres(url: string, options: { max?: number } = {}): Db {
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10, connectionTimeoutMillis: 5000 });
  // An idle client that loses its server must not take the process down; the next query reports it.
  pool.on("error", () => {});

  const runner = (client: pg.Pool | pg.PoolClient): Queryable => ({
    async query<R extends Row>(sql: string, params: readonly unknown[] = []) {
      const result = await client.query(sql, params as unknown[]);
      return result.rows as R[];
    },
    async exec(sql: string) {
      await client.query(sql);
    },
  });

  return {
    kind: "postgres",
    ...runner(pool),
    transaction: (work) =>
      runWithCommitHooks(async (attach) => {
        const client = await pool.connect();
        try {
          await client.query("BEGIN");
          const result = await work(attach(runner(client)));
          await client.query("COMMIT");
          return result;
        } catch (err) {
          await client.query("ROLLBACK").catch(() => {});
          throw err;
        } finally {
          client.release();
        }
      }),
    async close() {
      await pool.end();
    },
  };
}
