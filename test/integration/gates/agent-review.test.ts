import assert from "node:assert/strict";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { processesOfSession } from "../../../src/agents/session-processes.js";
import type { GateRun } from "../../../src/core/gate.js";
import { agentCliMissing } from "../../helpers/agent-clis.js";
import { cookAgentConfig } from "../../helpers/agent-scenario.js";
import { commandAgentsConfig } from "../../helpers/command-agents.js";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { gitOk, revParse, tempDir } from "../../helpers/git.js";
import { eventually } from "../../helpers/wait.js";
import { startModelServer, type ModelServer } from "../../fixtures/model-server/server.js";

// The reviewer: its verdict is chosen by what the diff (in its prompt, its last argument) holds.
// It says where it ran and whether it sees the server's database, tries to leave a file behind,
// and marks what it left running.
const reviewerScript = `#!/bin/sh
data=$(test -e "{dataDir}/db" && echo seen || echo hidden)
echo "head=$(git rev-parse HEAD) token=\${COOK_TOKEN:-none} gate=$COOK_GATE data=$data"
echo scribble > scribbled.txt
case "$1" in
  *"The diff below is cut after"*) echo "$1" | grep -o 'cut after [^;]*; the whole change is [^.]*'; echo "VERDICT: approve" ;;
  *please-approve*) echo "Clear and tested."; echo "VERDICT: approve" ;;
  *needs-work*) echo "parse() has no test for the empty input."; echo "- add one"; echo "VERDICT: request-changes" ;;
  *take-your-time*) sh -c 'sleep 600; true' & wait ;;
  *) echo "I have looked at it and I have feelings."; echo "VERDICT: maybe" ;;
esac
`;

const reviewGate = (agent: string, extra = "") => `[[gates]]
name = "review"
kind = "agent_review"
agent = "${agent}"
prompt = "Review this change for bugs and missing tests."
${extra}`;

interface GatesJson {
  mergeable: boolean;
  runs: GateRun[];
}

/** Adds a repo with cook.toml (and README.md) on main; returns its clone. */
async function seedRepo(cook: RunningCook, repo: string, cookToml: string): Promise<string> {
  assert.equal((await cook.cli(["repo", "add", repo])).code, 0);
  const work = join(tempDir(), repo);
  await gitOk(["clone", "--quiet", `${cook.url}/${repo}.git`, work]);
  writeFileSync(join(work, "README.md"), `# ${repo}\n`);
  writeFileSync(join(work, "cook.toml"), cookToml);
  await gitOk(["add", "."], { cwd: work });
  await gitOk(["commit", "--quiet", "-m", "first"], { cwd: work });
  await gitOk(["push", "--quiet", "origin", "main"], { cwd: work });
  return work;
}

/** Pushes a new commit of `files` on `branch` (made from main the first time); returns its sha. */
async function pushBranch(work: string, branch: string, files: Record<string, string>): Promise<string> {
  const exists = (await gitOk(["branch", "--list", branch], { cwd: work })).trim() !== "";
  await gitOk(exists ? ["checkout", "--quiet", branch] : ["checkout", "--quiet", "-b", branch, "main"], { cwd: work });
  for (const [path, text] of Object.entries(files)) writeFileSync(join(work, path), text);
  await gitOk(["add", "."], { cwd: work });
  await gitOk(["commit", "--quiet", "-m", `change ${Object.keys(files).join(" ")}`], { cwd: work });
  await gitOk(["push", "--quiet", "origin", branch], { cwd: work });
  return revParse(work, "HEAD");
}

function gateApi(cook: RunningCook) {
  const get = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${cook.url}${path}`);
    const text = await response.text();
    assert.equal(response.status, 200, `${path}: ${text}`);
    return (path.includes("/log?") ? text : JSON.parse(text)) as T;
  };
  /** The run of `head` once it is `state` (any finished state by default). */
  const runOf = (repo: string, branch: string, head: string, states = ["passed", "failed", "canceled"], timeoutMs = 60_000) =>
    eventually(async () => {
      const gates = await get<GatesJson>(`/api/branches/${encodeURIComponent(branch)}/gates?repo=${repo}`);
      return gates.runs.find((run) => run.head === head && states.includes(run.state));
    }, timeoutMs, `the run of ${branch} at ${head.slice(0, 8)} to be ${states.join(" or ")}`);
  const log = (run: GateRun) => get<string>(`/api/gate-runs/${run.id}/log?gate=review&attempt=1`);
  return { get, runOf, log };
}

describe("agent_review gates with a command agent", () => {
  let cook: RunningCook;
  let api: ReturnType<typeof gateApi>;
  let app: string;
  before(async () => {
    const dataDir = tempDir("cook-test-");
    cook = await startCook({ env: { COOK_DATA_DIR: dataDir }, config: commandAgentsConfig({ reviewer: reviewerScript.replace("{dataDir}", dataDir) }) });
    api = gateApi(cook);
    // A command gate goes first: the review runs once it passed.
    app = await seedRepo(cook, "app", `[[gates]]\nname = "check"\ncommand = "test -f README.md"\n\n${reviewGate("reviewer")}`);
  });
  after(() => cook?.stop());

  it("passes the run when the reviewer approves, with its comments and its session kept", async () => {
    const head = await pushBranch(app, "good", { "parse.ts": "export const parse = (s: string) => s.trim(); // please-approve\n" });
    const run = await api.runOf("app", "good", head);
    assert.equal(run.state, "passed", JSON.stringify(run));
    const [check, result] = run.results;
    assert.equal(check!.state, "passed");
    assert.equal(result!.state, "passed");
    assert.equal(result!.summary, "approved by reviewer");
    // The reviewer ran in a checkout of exactly the head, with no token.
    assert.equal(result!.detail, `head=${head} token=none gate=review data=seen\nClear and tested.`);
    const log = await api.log(run);
    assert.match(log, /^reviewer: agent 'reviewer' \(command\) on [0-9a-f]{12} against main at [0-9a-f]{12}; diff \d+/);
    assert.match(log, /Clear and tested\.\nVERDICT: approve\n── approved by reviewer\n$/);
    const gates = await api.get<GatesJson>("/api/branches/good/gates?repo=app");
    assert.equal(gates.mergeable, true);
  });

  it("fails the run when the reviewer requests changes, with its comments as the detail", async () => {
    const head = await pushBranch(app, "needs-work", { "parse.ts": "export const parse = (s: string) => s; // needs-work\n" });
    const run = await api.runOf("app", "needs-work", head);
    assert.equal(run.state, "failed");
    const result = run.results[1];
    assert.equal(result!.state, "failed");
    assert.equal(result!.summary, "reviewer requested changes");
    assert.equal(result!.detail, `head=${head} token=none gate=review data=seen\nparse() has no test for the empty input.\n- add one`);
    assert.equal((await api.get<GatesJson>("/api/branches/needs-work/gates?repo=app")).mergeable, false);
  });

  it("fails the run on a reply with no verdict line, with the reply attached", async () => {
    const head = await pushBranch(app, "vague", { "notes.md": "some notes\n" });
    const run = await api.runOf("app", "vague", head);
    assert.equal(run.state, "failed");
    const result = run.results[1];
    assert.equal(result!.summary, "the reviewer's reply has no VERDICT line");
    assert.equal(result!.detail, `head=${head} token=none gate=review data=seen\nI have looked at it and I have feelings.\nVERDICT: maybe`);
  });

  it("cuts a diff too big for a command line and tells the reviewer how big the whole change is", async () => {
    const big = Array.from({ length: 5000 }, (_, i) => `line ${i} of a generated table, long enough to add up`).join("\n");
    const head = await pushBranch(app, "big", { "table.txt": `${big}\n` });
    const run = await api.runOf("app", "big", head);
    assert.equal(run.state, "passed", JSON.stringify(run.results));
    assert.match(run.results[1]!.detail!, /\ncut after 100\.0 KiB; the whole change is 1 file changed, 5000 insertions\(\+\)$/);
    assert.match(await api.log(run), /; diff 100\.0 KiB, cut \(1 file changed, 5000 insertions\(\+\)\)\n/);
  });

  it("leaves nothing the reviewer wrote: its checkout is gone and the branch has only the pushed commit", async () => {
    await eventually(() => !existsSync(join(cook.dataDir, "gate-checkouts")) || readdirSync(join(cook.dataDir, "gate-checkouts")).length === 0 || undefined, 10_000, "no gate checkout left");
    const remote = await gitOk(["ls-remote", `${cook.url}/app.git`, "refs/heads/good"]);
    assert.equal(remote.split("\t")[0], await revParse(app, "good"));
  });

  it("runs the reviewer through the branch's backend: under the sandbox when cook.toml says so", async () => {
    const work = await seedRepo(cook, "boxed", `[environment]\nbackend = "sandbox"\n\n${reviewGate("reviewer")}`);
    const head = await pushBranch(work, "inside", { "a.txt": "please-approve\n" });
    const run = await api.runOf("boxed", "inside", head);
    assert.equal(run.state, "passed", JSON.stringify(run.results));
    // The sandbox hides the data dir (its database included): the checkout is what the reviewer reads.
    assert.equal(run.results[0]!.detail, `head=${head} token=none gate=review data=hidden\nClear and tested.`);
  });

  it("fails at once, naming the agent, when the gate's agent is not configured", async () => {
    const work = await seedRepo(cook, "ghostly", reviewGate("nobody"));
    const head = await pushBranch(work, "anything", { "a.txt": "please-approve\n" });
    const run = await api.runOf("ghostly", "anything", head);
    assert.equal(run.state, "failed");
    assert.match(run.results[0]!.summary!, /^cannot review: unknown agent 'nobody'; this server has .*reviewer/);
    const attempts = await api.get<{ attempts: unknown[] }>(`/api/gate-runs/${run.id}`);
    assert.deepEqual(attempts.attempts, [], "no reviewer was started");
  });

  it("kills a reviewer whose run a newer push replaced, with everything it started", async () => {
    const work = await seedRepo(cook, "slow", reviewGate("reviewer"));
    const first = await pushBranch(work, "ponder", { "a.txt": "take-your-time 1\n" });
    const running = await api.runOf("slow", "ponder", first, ["running"]);
    const marker = `review-${running.id}-review-1`;
    await eventually(() => processesOfSession(marker).length > 0 || undefined, 10_000, "the reviewer to start");
    const second = await pushBranch(work, "ponder", { "a.txt": "please-approve\n" });
    const canceled = await api.runOf("slow", "ponder", first, ["canceled"]);
    assert.equal(canceled.results[0]!.state, "canceled");
    await eventually(() => processesOfSession(marker).length === 0 || undefined, 10_000, "the canceled reviewer's processes to go");
    assert.equal((await api.runOf("slow", "ponder", second)).state, "passed");
  });

  it("kills a reviewer that runs past the gate's timeout and fails the gate", async () => {
    const work = await seedRepo(cook, "hasty", reviewGate("reviewer", 'timeout = "2s"'));
    const head = await pushBranch(work, "ponder", { "a.txt": "take-your-time\n" });
    const run = await api.runOf("hasty", "ponder", head);
    assert.equal(run.state, "failed");
    assert.equal(run.results[0]!.summary, "the reviewer 'reviewer' timed out after 2 s and was killed");
    assert.equal(processesOfSession(`review-${run.id}-review-1`).length, 0);
  });
});

describe("agent_review gates with Claude Code against the scripted model server", () => {
  let cook: RunningCook;
  let server: ModelServer;
  before(async () => {
    const missing = agentCliMissing("claude");
    if (missing) throw new Error(missing);
    server = await startModelServer({
      scripts: {
        // It tries to change a file, reads the history, tries a command that writes, then approves.
        "review-approve": [
          { tool: "write_file", path: "sneaky.txt", content: "written by a reviewer\n", text: "Let me fix a typo while I am here." },
          { tool: "shell", command: "git log --oneline -1" },
          { tool: "shell", command: "touch other.txt" },
          { text: "The change is small and correct.\n\nVERDICT: approve" },
        ],
      },
    });
    cook = await startCook({ config: cookAgentConfig("claude", server) });
  });
  after(async () => {
    await cook?.stop();
    await server?.close();
  });

  it("runs claude read-only on the diff and passes the run on its approval", async () => {
    const api = gateApi(cook);
    const work = await seedRepo(cook, "app", reviewGate("claude").replace("Review this change", "[script:review-approve] Review this change"));
    const head = await pushBranch(work, "tidy", { "util.ts": "export const double = (n: number) => n * 2;\n" });
    const run = await api.runOf("app", "tidy", head, ["passed", "failed", "canceled"], 120_000);
    const log = await api.log(run);
    assert.equal(run.state, "passed", `${JSON.stringify(run.results)}\n${log}`);
    assert.equal(run.results[0]!.summary, "approved by claude");
    assert.equal(run.results[0]!.detail, "The change is small and correct.");
    // The diff reached the model in the prompt; the write it asked for was refused.
    const asked = server.requests.filter((r) => r.script === "review-approve");
    assert.ok(asked.length >= 2, `requests: ${asked.length}`);
    assert.match(JSON.stringify(asked[0]!.body), /export const double/);
    // It could read; what would have written was refused by the CLI itself.
    assert.match(log, /\[tool\] Write .*sneaky\.txt.*\n(.*\n)?\[tool error\] Permission to use Write has been denied/);
    assert.match(log, /\[tool\] Bash \{"command":"git log --oneline -1".*\n\[result\] [0-9a-f]+ change util\.ts\n/);
    assert.match(log, /\[tool\] Bash \{"command":"touch other\.txt".*\n(.*\n)?\[tool error\] Permission to use Bash has been denied/);
    assert.deepEqual(server.outbound, [], "nothing tried to leave loopback");
  });
});
