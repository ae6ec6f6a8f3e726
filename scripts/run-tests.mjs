#!/usr/bin/env node
// Runs the compiled tests with node's test runner. Real PostgreSQL and NATS are required: their
// URLs come from COOK_TEST_DATABASE_URL and COOK_TEST_NATS_URL, defaulting to the local services.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";

const env = {
  ...process.env,
  COOK_TEST_DATABASE_URL: process.env.COOK_TEST_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test",
  COOK_TEST_NATS_URL: process.env.COOK_TEST_NATS_URL || "nats://127.0.0.1:4222",
};
const requested = process.argv.slice(2);
const suites = requested.length > 0 ? requested : ["dist/test/unit", "dist/test/integration", "dist/test/e2e"].filter((dir) => existsSync(dir));
// Test files spend most of their time waiting on git, databases and the browser, so run more of them than there are cores.
const concurrency = process.env.COOK_TEST_CONCURRENCY || String(Math.max(2, availableParallelism()) * 2);
// A test that hangs (a stream that never delivers, a server that never exits) fails after this
// long instead of holding the whole run until CI gives up on it. Node applies the limit to each test
// file as a whole too, and a file of browser tests takes 1-2 minutes on a busy 2-core machine: the
// limit is set for files, well above the slowest one seen (branches.test.ts, 120 s in CI).
const perTestTimeoutMs = process.env.COOK_TEST_TIMEOUT_MS || "300000";
// Every seeded test server copies one embedded database; made here once, not by many files at once.
const { preparePgliteTemplate } = await import("../dist/test/helpers/cook.js");
await preparePgliteTemplate();
const result = spawnSync(process.execPath, ["--enable-source-maps", "--test", `--test-concurrency=${concurrency}`, `--test-timeout=${perTestTimeoutMs}`, ...suites], {
  stdio: "inherit",
  env,
});
process.exit(result.status ?? 1);
