import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Db } from "../../../src/db/db.js";
import { readFactoryStats, type FactoryStats } from "../../../src/factory/stats.js";
import { storeKinds, type OpenedStore } from "../../helpers/database.js";

const day = 86_400_000;
const now = new Date("2026-12-02T18:00:00Z");

/** A data dir in which repos `shop` and `other` exist (a bare repo is a folder with HEAD). */
function dataDirWithRepos(): string {
  const dir = mkdtempSync(join(tmpdir(), "cook-factory-stats-"));
  for (const name of ["shop", "other"]) {
    mkdirSync(join(dir, "repos", `${name}.git`), { recursive: true });
    writeFileSync(join(dir, "repos", `${name}.git`, "HEAD"), "ref: refs/heads/main\n");
  }
  return dir;
}

// The rows of a week of work, written as they would be, with the times chosen.
async function seed(db: Db): Promise<void> {
  const task = (id: string, repo: string, created: string, status = "closed", resolution: string | null = "done") =>
    db.query("INSERT INTO tasks (id, repo, title, priority, status, resolution, created_at) VALUES ($1, $2, $3, 2, $4, $5, $6)", [id, repo, `Task ${id}`, status, resolution, created]);
  const branch = (id: string, repo: string, taskId: string | null, status: string, ended: string | null) =>
    db.query("INSERT INTO branches (id, repo, name, base_branch, base_commit, task_id, status, origin, created_by, ended_at) VALUES ($1, $2, $1, 'main', 'c0', $3, $4, 'create', 'test', $5)", [id, repo, taskId, status, ended]);
  const run = (id: string, branchId: string, repo: string, state: string, ended: string | null) =>
    db.query("INSERT INTO gate_runs (id, branch_id, repo, head, tree, target, target_commit, config_hash, reason, state, requested_by, ended_at) VALUES ($1, $2, $3, 'h', 't', 'main', 'c0', 'x', 'push', $4, 'test', $5)", [id, branchId, repo, state, ended]);
  const session = (id: string, branchId: string, ms: number, usd: number, created: string) =>
    db.query("INSERT INTO agent_sessions (id, branch_id, agent, kind, status, created_by, duration_ms, cost_usd, input_tokens, created_at) VALUES ($1, $2, 'w', 'command', 'completed', 'test', $3, $4, 100, $5)", [id, branchId, ms, usd, created]);

  await task("t1", "shop", "2026-11-30T00:00:00Z"); // merged after 1 day
  await task("t2", "shop", "2026-12-01T00:00:00Z"); // after half a day
  await task("t3", "shop", "2026-11-01T06:00:00Z"); // after 31 days
  await task("reopened", "shop", "2026-11-30T00:00:00Z", "open", null); // merged, then reopened: not counted
  await task("wontfix", "shop", "2026-11-30T00:00:00Z", "closed", "wontfix"); // merged, then closed as won't fix
  await task("old", "shop", "2026-10-01T00:00:00Z"); // merged before the window
  await task("elsewhere", "other", "2026-12-01T00:00:00Z");
  await branch("b1", "shop", "t1", "merged", "2026-12-01T00:00:00Z");
  await branch("b2", "shop", "t2", "merged", "2026-12-01T12:00:00Z");
  await branch("b3", "shop", "t3", "merged", "2026-12-02T06:00:00Z");
  await branch("b3-earlier", "shop", "t3", "abandoned", "2026-11-20T06:00:00Z");
  await branch("b4", "shop", "reopened", "merged", "2026-12-01T00:00:00Z");
  await branch("b5", "shop", "wontfix", "merged", "2026-12-01T00:00:00Z");
  await branch("b6", "shop", "old", "merged", "2026-10-02T00:00:00Z");
  await branch("b7", "other", "elsewhere", "merged", "2026-12-02T00:00:00Z");
  await branch("loose", "shop", null, "open", null);

  await run("run_a1", "b1", "shop", "failed", "2026-12-01T01:00:00Z");
  await run("run_a2", "b1", "shop", "passed", "2026-12-01T02:00:00Z");
  await run("run_b1", "b2", "shop", "passed", "2026-12-02T01:00:00Z");
  await run("run_b2", "b2", "shop", "canceled", "2026-12-02T02:00:00Z");
  await run("run_b3", "b2", "shop", "running", null);
  await run("run_o1", "b7", "other", "failed", "2026-12-02T01:00:00Z");
  await run("run_old", "b6", "shop", "passed", "2026-10-02T00:00:00Z");
  // A repo without gates: its runs pass with nothing judged, and are no pass to count.
  await run("run_nogates", "loose", "shop", "passed", "2026-12-02T03:00:00Z");
  for (const id of ["run_a1", "run_a2", "run_b1", "run_b2", "run_o1", "run_old"]) {
    await db.query("INSERT INTO gate_results (run_id, position, gate, kind, definition, state) VALUES ($1, 0, 'ci', 'command', '{}', 'passed')", [id]);
  }
  await db.query("INSERT INTO gate_attempts (run_id, gate, attempt, state, started_at) VALUES ('run_a1', 'ci', 1, 'failed', '2026-12-01T00:30:00Z'), ('run_a1', 'ci', 2, 'failed', '2026-12-01T00:40:00Z')");

  await session("s1", "b1", 60_000, 0.5, "2026-11-30T01:00:00Z");
  await session("s2", "b1", 30_000, 0.25, "2026-11-30T02:00:00Z");
  await session("s3", "b2", 10_000, 1, "2026-12-01T01:00:00Z");
  await session("s4", "loose", 5_000, 0.1, "2026-12-01T01:00:00Z");
  await session("s5", "b6", 99_000, 9, "2026-10-01T01:00:00Z"); // before the window
}

for (const kind of storeKinds) {
  describe(`the factory's numbers on ${kind.name}`, () => {
    let store: OpenedStore;
    let stats: FactoryStats;
    const dataDir = dataDirWithRepos();
    before(async () => {
      store = await kind.open();
      await seed(store.db);
      stats = await readFactoryStats({ db: store.db, dataDir }, { repo: "shop", days: 7, now });
    });
    after(() => store?.close());

    it("counts a task once, at its branch's merge, only while it is closed as done, within the window", () => {
      assert.equal(stats.merged.total, 3);
      assert.deepEqual(stats.merged.perDay.filter((d) => d.count).map((d) => [d.day, d.count, d.medianCycleMs]), [
        ["2026-12-01", 2, 0.75 * day],
        ["2026-12-02", 1, 31 * day],
      ]);
      assert.deepEqual(stats.merged.tasks.map((t) => [t.taskId, t.cycleMs, t.branch]), [
        ["t3", 31 * day, "b3"],
        ["t2", 0.5 * day, "b2"],
        ["t1", 1 * day, "b1"],
      ]);
    });

    it("gives median, p90 (interpolated, as percentile_cont) and mean cycle times", () => {
      assert.deepEqual(stats.merged.cycle, { medianMs: day, p90Ms: 25 * day, meanMs: (32.5 / 3) * day });
    });

    it("counts ended gate runs by verdict, re-runs of a branch, and retried attempts", () => {
      const { perDay, ...totals } = stats.gates;
      assert.deepEqual(totals, { passed: 2, failed: 1, canceled: 1, passRate: 2 / 3, reruns: 2, branches: 2, retriedAttempts: 1 });
      assert.deepEqual(perDay.filter((d) => d.passed + d.failed + d.canceled).map((d) => [d.day, d.passed, d.failed, d.canceled, d.reruns, d.passRate]), [
        ["2026-12-01", 1, 1, 0, 1, 0.5],
        ["2026-12-02", 1, 0, 1, 1, 1],
      ]);
    });

    it("sums agent time and cost per task, longest first, and over every session", () => {
      assert.deepEqual(stats.agents.top.map((t) => [t.taskId, t.sessions, t.durationMs, t.costUsd, t.tokens]), [
        ["t1", 2, 90_000, 0.75, 200],
        ["t2", 1, 10_000, 1, 100],
      ]);
      assert.deepEqual(stats.agents.all, { sessions: 4, durationMs: 105_000, costUsd: 1.85, tokens: 400 });
      assert.deepEqual(stats.agents.onTasks, { sessions: 3, durationMs: 100_000, costUsd: 1.75, tokens: 300, tasks: 2 });
    });

    it("spans every repo without one, and answers an empty window with zeros", async () => {
      const all = await readFactoryStats({ db: store.db, dataDir }, { repo: undefined, days: 7, now });
      assert.deepEqual([all.merged.total, all.gates.failed], [4, 2]);
      const later = await readFactoryStats({ db: store.db, dataDir }, { repo: "shop", days: 7, now: new Date("2027-06-01T00:00:00Z") });
      assert.deepEqual([later.merged.total, later.merged.cycle, later.gates.passRate, later.agents.all.sessions, later.agents.top], [0, undefined, undefined, 0, []]);
      assert.equal(later.merged.perDay.length, 7);
    });

    it("refuses a repo that does not exist", async () => {
      await assert.rejects(readFactoryStats({ db: store.db, dataDir }, { repo: "nope", days: 30, now }), { name: "CookError", code: "not_found" });
    });
  });
}
