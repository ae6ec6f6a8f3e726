import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { startCook, type RunningCook } from "./cook.js";
import { publishedEvents, type EventRow } from "./events.js";
import { gitOk, revParse, tempDir } from "./git.js";

export type { EventRow };

/** A branch as `cook branch … --json` prints it. */
export interface BranchJson {
  id: string;
  repo: string;
  name: string;
  status: string;
  taskId?: string;
  baseBranch: string;
  baseCommit: string;
  origin: string;
  archiveRef?: string;
  head?: string;
  ahead?: number;
  behind?: number;
  environment?: { id: string; backend: string; state: string; path: string; portBase: number; error?: string };
  diff?: { files: Array<{ path: string; added: number; deleted: number }>; added: number; deleted: number };
  setupLog?: string;
}

/** A server with repos `app` (one commit on main, cloned in `work`) and `web`, and the CLI helpers branch tests share. */
export interface BranchFixture {
  cook: RunningCook;
  work: string;
  mainHead: string;
  json<T>(args: string[]): Promise<T>;
  /** Runs a CLI command that must fail with exit 1 and one line on stderr matching `message`. */
  refused(args: string[], message: RegExp): Promise<void>;
  events(pattern: string): Promise<EventRow[]>;
  task(title: string): Promise<{ id: string }>;
  taskStatus(id: string): Promise<string>;
}

/** Adds repo `app` to the server with one commit (README.md, or `files`) pushed to main; returns the clone it was pushed from. */
export async function seedAppRepo(cook: RunningCook, files: Record<string, string> = { "README.md": "# app\n" }): Promise<{ work: string; mainHead: string }> {
  assert.equal((await cook.cli(["repo", "add", "app"])).code, 0);
  const work = join(tempDir(), "app");
  await gitOk(["clone", "--quiet", `${cook.url}/app.git`, work]);
  for (const [path, text] of Object.entries(files)) writeFileSync(join(work, path), text);
  await gitOk(["add", "."], { cwd: work });
  await gitOk(["commit", "--quiet", "-m", "first"], { cwd: work });
  await gitOk(["push", "--quiet", "origin", "main"], { cwd: work });
  return { work, mainHead: await revParse(work, "HEAD") };
}

export async function startBranchFixture(): Promise<BranchFixture> {
  const cook = await startCook();
  const { work, mainHead } = await seedAppRepo(cook);
  assert.equal((await cook.cli(["repo", "add", "web"])).code, 0);
  const json = async <T>(args: string[]): Promise<T> => {
    const result = await cook.cli([...args, "--json"]);
    assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
    return JSON.parse(result.stdout) as T;
  };
  return {
    cook,
    work,
    mainHead,
    json,
    async refused(args, message) {
      const result = await cook.cli(args);
      assert.equal(result.code, 1, `${args.join(" ")} should fail: ${result.stdout}`);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trimEnd().split("\n").length, 1, `one line on stderr: ${result.stderr}`);
    },
    events: (pattern) => publishedEvents(cook, pattern),
    task: (title) => json<{ id: string }>(["task", "create", "app", `--title=${title}`]),
    taskStatus: async (id) => (await json<{ task: { status: string } }>(["task", "show", id])).task.status,
  };
}
