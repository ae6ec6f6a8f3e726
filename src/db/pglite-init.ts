// Run as a child process by openPglite: creates a PGlite data dir and exits, taking initdb's
// memory with it.
import { PGlite } from "@electric-sql/pglite";
import { pgliteStartParams } from "./pglite.js";

const dir = process.argv[2];
if (!dir) {
  process.stderr.write("usage: pglite-init <data dir>\n");
  process.exit(2);
}
const db = await PGlite.create({ dataDir: dir, startParams: pgliteStartParams });
await db.close();
