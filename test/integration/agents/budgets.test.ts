import assert from "node:assert/strict";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { seedAppRepo } from "../../helpers/branch-fixture.js";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { tempDir } from "../../helpers/git.js";
import { agentApi, type SessionJson } from "../../helpers/agent-api.js";


// A stand-in for Claude Code printing its stream-json shapes forever: the same tool call again and
// again (a loop), or answers that each cost 1,500 tokens, four a second (a spender). It resumes the id it is given.
const stub = `#!/usr/bin/env node
const args = process.argv.slice(2);
const resume = args.indexOf("--resume");
const session = resume >= 0 ? args[resume + 1] : "5f0c1c9e-1d2b-4c55-9f1e-000000000001";
const say = (line) => process.stdout.write(JSON.stringify({ ...line, session_id: session }) + "\\n");
say({ type: "system", subtype: "init", model: "claude-stub" });
let n = 0;
setInterval(() => {
  n++;
  const spend = process.env.STUB_MODE === "loop" ? [10, 5] : [1000, 500];
  const usage = { input_tokens: spend[0], output_tokens: spend[1], cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
  const content = process.env.STUB_MODE === "loop"
    ? [{ type: "tool_use", id: "toolu_" + n, name: "Bash", input: { command: "ls -la" } }]
    : [{ type: "text", text: "thinking out loud " + n }];
  say({ type: "assistant", message: { id: "msg_" + n, type: "message", role: "assistant", model: "claude-stub", content, usage } });
}, process.env.STUB_MODE === "loop" ? 100 : 250);
`;

describe("budgets and watchdogs stop runs while they run", () => {
  let cook: RunningCook;
  before(async () => {
    const dir = tempDir();
    const program = join(dir, "claude-stub");
    writeFileSync(program, stub);
    chmodSync(program, 0o755);
    const claude = (mode: string) => [`command = "${program}"`, `env = { ANTHROPIC_API_KEY = "stub-key-123456", STUB_MODE = "${mode}" }`];
    cook = await startCook({
      config: [
        "[agents.looper]",
        'kind = "claude"',
        ...claude("loop"),
        "[agents.spender]",
        'kind = "claude"',
        ...claude("spend"),
        "[agents.sleeper]",
        'kind = "command"',
        'command = "sleep 600; true"',
        "[budgets]",
        "repeated_tool_calls = 4",
        "idle_minutes = 0.03",
        "run_minutes = 0.1",
        "task_tokens = 5000",
      ].join("\n"),
    });
    await seedAppRepo(cook);
  });
  after(() => cook?.stop());
  const { api, ended } = agentApi({
    get url() {
      return cook.url;
    },
  });

  const start = async (name: string, agent: string, task?: string) =>
    (await api<{ session: SessionJson }>("POST", "/api/branches", { repo: "app", name, agent, prompt: "go", task })).session;
  const newTask = async (title: string) => (await api<{ task: { id: string } }>("POST", "/api/tasks", { repo: "app", title })).task.id;
  const taskStatus = async (id: string) => (await api<{ task: { status: string } }>("GET", `/api/tasks/${id}`)).task.status;

  it("a loop is nudged once (interrupt, resume with what was seen), then stopped, and the task goes to a human", async () => {
    const task = await newTask("Loops");
    const session = await start("loop", "looper", task);
    const end = await ended(session.id);
    assert.equal(end.status, "failed");
    assert.equal(end.runs, 2, "one nudge, then the stop");
    assert.equal(end.reason, "stopped by a watchdog: the same tool call (Bash) with the same input 4 times in a row");
    const { events } = await api<{ events: Array<{ run: number; kind: string; text?: string }> }>("GET", `/api/sessions/${session.id}/events`);
    const nudge = events.find((e) => e.run === 2 && e.kind === "user_prompt");
    assert.match(nudge!.text!, /^You were stopped because you made the same tool call \(Bash\) with the same input 4 times in a row\./);
    assert.equal(await taskStatus(task), "needs_human");
  });

  it("silence is nudged once, then stopped", async () => {
    const session = await start("idle", "sleeper");
    const end = await ended(session.id);
    assert.equal(end.status, "failed", end.reason);
    assert.equal(end.runs, 2, end.reason);
    assert.equal(end.reason, "stopped by a watchdog: no output for 0.03 minutes");
  });

  it("the task's token budget stops the run as it is crossed, not after it ends", async () => {
    const task = await newTask("Spends");
    const session = await start("spend", "spender", task);
    const end = await ended(session.id);
    assert.equal(end.status, "failed");
    assert.match(end.reason!, /^stopped: the task used \d+ tokens, over the task's budget of 5000$/);
    const { session: totals } = await api<{ session: { usage: { inputTokens: number; outputTokens: number } } }>("GET", `/api/sessions/${session.id}`);
    const used = totals.usage.inputTokens + totals.usage.outputTokens;
    // The stub never stops by itself, 1,500 tokens every 250 ms: stopped within 16 more answers (4 s;
    // a busy machine's stop took 9, 0.9 s, at 100 ms apart) is stopped as the budget was crossed.
    assert.ok(used > 5000 && used <= 30_000, `stopped soon after the budget: ${used} tokens`);
    assert.equal(await taskStatus(task), "needs_human");
  });

  it("the time box stops a run that goes on working", async () => {
    const session = await start("boxed", "spender");
    const end = await ended(session.id);
    assert.equal(end.status, "failed");
    assert.equal(end.reason, "stopped: the run took longer than its time box of 0.1 minutes");
  });
});
