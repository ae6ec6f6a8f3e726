import { spawnSync } from "node:child_process";
import { setFlagsFromString } from "node:v8";
import { chmodSync, existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite, types } from "@electric-sql/pglite";
import { CookError } from "../core/errors.js";
import { runWithCommitHooks, type Db, type Queryable, type Row } from "./db.js";

const parsers = { [types.INT8]: (value: string) => Number(value) };

// Measured on PGlite 0.5: the default 128 MB shared_buffers keeps an idle server near 300 MB
// resident; 16 MB brings PGlite to ~160 MB, and Cook's tables are small enough not to notice.
export const pgliteStartParams = [...PGlite.defaultStartParams, "-c", "shared_buffers=16MB"];

// V8 compiles PGlite's 9 MB WebAssembly twice: a quick baseline (Liftoff), then an optimised tier
// in the background, and keeps both. Measured with the idle-RSS benchmark, baseline only saves
// ~35 MB resident for ~3% of embedded throughput. It must be set before the module is compiled.
const baselineWasmOnly = "--liftoff-only";

/**
 * initdb inside WebAssembly grows the process to ~850 MB and WASM memory never shrinks, so a new
 * data dir is initialised by a short-lived child process and the server opens the result.
 */
function initialiseInChild(dir: string): void {
  const script = fileURLToPath(new URL("./pglite-init.js", import.meta.url));
  const result = spawnSync(process.execPath, [baselineWasmOnly, script, dir], { encoding: "utf8" });
  if (result.status !== 0) throw new CookError("unavailable", `cannot initialise the embedded database in ${dir}: ${result.stderr.trim() || result.error?.message}`);
}

/**
 * PGlite's file system layer (Emscripten's NODEFS) gives every file it creates mode 0666 whatever
 * the process umask says; the database is for the server's user alone.
 */
function makePrivate(dir: string): void {
  chmodSync(dir, 0o700);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) makePrivate(path);
    else if (entry.isFile()) chmodSync(path, 0o600);
  }
}

/** The embedded database: real PostgreSQL compiled to WASM, kept in `dir` (one process at a time). */
export async function openPglite(dir: string | undefined): Promise<Db> {
  setFlagsFromString(baselineWasmOnly);
  if (dir) {
    mkdirSync(dir, { recursive: true });
    if (!existsSync(join(dir, "PG_VERSION"))) initialiseInChild(dir);
    makePrivate(dir);
  }
  const db = await PGlite.create(dir ? { dataDir: dir, parsers, startParams: pgliteStartParams } : { parsers, startParams: pgliteStartParams });

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
