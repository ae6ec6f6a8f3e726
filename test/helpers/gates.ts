import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { RunningCook } from "./cook.js";
import { publishedEvents } from "./events.js";
import { gitOk, revParse, tempDir } from "./git.js";
import { eventually } from "./wait.js";

export interface GateResultJson {
  gate: string;
  kind: string;
  state: string;
  summary?: string;
  detail?: string;
  reusedFrom?: string;
  handedBack: boolean;
}

export interface GateRunJson {
  id: string;
  head: string;
  tree: string;
  reason: string;
  state: string;
  error?: string;
  results: GateResultJson[];
}

export interface BranchGatesJson {
  mergeable: boolean;
  reason?: string;
  head?: string;
  autoMerge: boolean;
  runs: GateRunJson[];
  merges: Array<{ id: string; state: string; message?: string; conflicts: string[]; candidate?: string; gateRunId?: string }>;
}

/** `GET /api/branches/<ref>/gates` (ref: a name, `<repo>/<name>` or brn_ id). */
export async function branchGates(cook: RunningCook, ref: string, repo?: string): Promise<BranchGatesJson> {
  const response = await fetch(`${cook.url}/api/branches/${encodeURIComponent(ref)}/gates${repo ? `?repo=${encodeURIComponent(repo)}` : ""}`);
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()) as BranchGatesJson;
}

/** Waits until the branch's newest run for `head` (any head when omitted) is in one of `states`; returns it. */
export function runReaching(cook: RunningCook, ref: string, states: string[], options: { head?: string; repo?: string; timeoutMs?: number; reason?: string } = {}): Promise<GateRunJson> {
  return eventually(
    async () => {
      const runs = (await branchGates(cook, ref, options.repo)).runs.filter((r) => (options.head === undefined || r.head === options.head) && (options.reason === undefined || r.reason === options.reason));
      return runs[0] && states.includes(runs[0].state) ? runs[0] : undefined;
    },
    options.timeoutMs ?? 20_000,
    `a run of ${ref} ${options.head?.slice(0, 8) ?? ""} in ${states.join("/")}`,
  );
}

/** A repo `name` on the server whose main holds `files` (cook.toml among them); returns a clone of it. */
export async function seedRepo(cook: RunningCook, name: string, files: Record<string, string>): Promise<string> {
  assert.equal((await cook.cli(["repo", "add", name])).code, 0);
  const work = join(tempDir(), name);
  await gitOk(["clone", "--quiet", `${cook.url}/${name}.git`, work]);
  await commitFiles(work, files, "first");
  await gitOk(["push", "--quiet", "origin", "main"], { cwd: work });
  return work;
}

/** Writes files (paths relative to the clone) and commits them; returns the new head. */
export async function commitFiles(work: string, files: Record<string, string>, message: string): Promise<string> {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(work, path)), { recursive: true });
    writeFileSync(join(work, path), text);
  }
  await gitOk(["add", "-A"], { cwd: work });
  await gitOk(["commit", "--quiet", "--allow-empty", "-m", message], { cwd: work });
  return revParse(work, "HEAD");
}

/** Starts `branch` from origin/main (or checks it out), commits `files` and pushes it; returns the pushed head. */
export async function pushBranch(work: string, branch: string, files: Record<string, string>, message = `change on ${branch}`): Promise<string> {
  await gitOk(["fetch", "--quiet", "origin"], { cwd: work });
  const exists = (await gitOk(["branch", "--list", branch], { cwd: work })).trim() !== "";
  await gitOk(exists ? ["checkout", "--quiet", branch] : ["checkout", "--quiet", "-b", branch, "origin/main"], { cwd: work });
  const head = await commitFiles(work, files, message);
  await gitOk(["push", "--quiet", "--force", "origin", branch], { cwd: work });
  return head;
}

/** The events whose subject matches `pattern` (NATS wildcards), oldest first, once published (helpers/events.ts). */
export const eventsOf = publishedEvents;
