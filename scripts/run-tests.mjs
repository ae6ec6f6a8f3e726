#!/usr/bin/env node
// Runs the compiled tests with node's test runner. Real PostgreSQL and NATS are required: their
// URLs come from COOK_TEST_DATABASE_URL and COOK_TEST_NATS_URL, defaulting to the local services.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";

const env = {
  ...process.env,
  COOK_TEST_DATABASE_URL: process.env.COOK_TEST_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test",
  COOK_TEST_NATS_URL: process.env.COOK_TEST_NATS_URL || "nats://127.0.0.1:4222",
};
const requested = process.argv.slice(2);
const suites = requested.length > 0 ? requested : spreadHeavyFiles(["dist/test/unit", "dist/test/integration", "dist/test/e2e"].filter((dir) => existsSync(dir)).flatMap(testFiles));
// Test files spend most of their time waiting on git, databases and the browser, so run more of them than there are cores.
const concurrency = process.env.COOK_TEST_CONCURRENCY || String(Math.max(2, availableParallelism()) * 2);
/** The test files under `dir`, in name order (the order node's runner would find them in). */
function testFiles(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".test.js"))
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name))
    .sort();
}

/**
 * The runner starts files in the order given. In name order the files that drive the real agent
 * CLIs (each run of OpenCode or Gemini CLI takes seconds of CPU) and the browser files sit next to
 * each other and ran at the same time, making each of them several times slower than alone: on a
 * busy CI machine one ran past its time limit. Spread through the first four fifths of the list,
 * they overlap the light files instead, and the last to start are light ones, so none ends late.
 */
function spreadHeavyFiles(files) {
  const agents = files.filter((file) => /integration\/agents\/(cook-|real-clis)/.test(file));
  const browsers = files.filter((file) => /\/e2e\//.test(file));
  const heavy = [];
  for (let i = 0; i < Math.max(agents.length, browsers.length); i++) heavy.push(...[agents[i], browsers[i]].filter(Boolean));
  const light = files.filter((file) => !heavy.includes(file));
  const spacing = (0.8 * files.length) / heavy.length;
  const ordered = [];
  for (let k = 0; heavy.length > 0 || light.length > 0; ) {
    if (heavy.length > 0 && (ordered.length >= Math.round(k * spacing) || light.length === 0)) {
      ordered.push(heavy.shift());
      k++;
    } else ordered.push(light.shift());
  }
  return ordered;
}

// A test that hangs (a stream that never delivers, a server that never exits) fails after this
// long instead of holding the whole run until CI gives up on it. Node applies the limit to each test
// file as a whole too: the limit is set for files, well above the slowest seen. The OpenCode
// scenario (five runs of a CLI that takes about 7 s of CPU to start) took 97 s in a local run and
// ran past the 300 s this was on a CI machine three times slower.
const perTestTimeoutMs = process.env.COOK_TEST_TIMEOUT_MS || "600000";
// Every seeded test server copies one embedded database; made here once, not by many files at once.
const { preparePgliteTemplate } = await import("../dist/test/helpers/cook.js");
await preparePgliteTemplate();
const result = spawnSync(process.execPath, ["--enable-source-maps", "--test", `--test-concurrency=${concurrency}`, `--test-timeout=${perTestTimeoutMs}`, ...suites], {
  stdio: "inherit",
  env,
});
process.exit(result.status ?? 1);
