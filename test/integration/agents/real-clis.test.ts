import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it, type TestContext } from "node:test";
import { packageRoot } from "../../../src/config/package-root.js";
import { startModelServer, type ModelServer } from "../../fixtures/model-server/server.js";
import {
  agentCliMissing,
  agentClis,
  agentCliVersion,
  networkIsolation,
  prepareAgentLogin,
  runAgentCli,
  startAgentSession,
  streamSessionId,
  type AgentCli,
  type AgentLogin,
  type AgentRun,
  type AgentSession,
} from "../../helpers/agent-clis.js";
import { gitOk, makeWorkRepo } from "../../helpers/git.js";

// The four real agent CLIs (test/agent-clis, installed by scripts/install-agent-clis.sh), each run
// directly — no Cook — against the scripted model server, inside a network namespace with only
// loopback where the machine allows (root), with HTTP(S)_PROXY pointing at the model server in any
// case so that a proxy-aware attempt to leave is recorded. The CLIs run side by side, one model
// server per test, so the requests a test asserts on are its own.
//
// COOK_RECORD_AGENT_STREAMS=1 also writes each run's stdout to test/fixtures/agent-streams/<cli>/
// (see the README there).

const gitIdentity = {
  GIT_AUTHOR_NAME: "Scripted Agent",
  GIT_AUTHOR_EMAIL: "agent@cook.test",
  GIT_COMMITTER_NAME: "Scripted Agent",
  GIT_COMMITTER_EMAIL: "agent@cook.test",
  GIT_CONFIG_NOSYSTEM: "1",
};

/** What each CLI does that the tests pin down; a new version that changes it fails here first. */
const expected: Record<AgentCli, { badResumeExit: number; badResumeId: string }> = {
  claude: { badResumeExit: 1, badResumeId: "3f0c1d2e-5b6a-4c7d-8e9f-0a1b2c3d4e5f" },
  codex: { badResumeExit: 1, badResumeId: "019a0000-0000-7000-8000-000000000000" },
  gemini: { badResumeExit: 42, badResumeId: "3f0c1d2e-5b6a-4c7d-8e9f-0a1b2c3d4e5f" },
  opencode: { badResumeExit: 1, badResumeId: "ses_0000000000000000000000000a" },
};

const recordDir = process.env.COOK_RECORD_AGENT_STREAMS ? join(packageRoot(), "test", "fixtures", "agent-streams") : undefined;

function record(t: TestContext, cli: AgentCli, scenario: string, run: AgentRun): void {
  if (!recordDir) return;
  t.diagnostic(`recorded ${cli} ${scenario}: exit ${run.code ?? run.signal} after ${run.durationMs} ms; stderr: ${run.stderr.trim().split("\n").at(-1) ?? ""}`);
  mkdirSync(join(recordDir, cli), { recursive: true });
  writeFileSync(join(recordDir, cli, `recorded-${agentCliVersion(cli)}-${scenario}.jsonl`), run.stdout);
}

/** The run's output, for a failing assertion's message. */
function shown(run: AgentRun): string {
  return `exit ${run.code ?? run.signal} after ${run.durationMs} ms\n--- stdout\n${run.stdout.slice(-4000)}\n--- stderr\n${run.stderr.slice(-4000)}`;
}

/** Script and step of each model request (side requests such as OpenCode's title left out), and its status. */
function modelTurns(server: ModelServer): string[] {
  return server.requests.filter((r) => r.api && !r.side).map((r) => `${r.script}#${r.step} ${r.status}`);
}

async function withServer<T>(t: TestContext, body: (server: ModelServer) => Promise<T>): Promise<T> {
  const server = await startModelServer();
  try {
    return await body(server);
  } finally {
    await server.close();
    if (server.outbound.length > 0) t.diagnostic(`tried to leave loopback: ${server.outbound.join(", ")}`);
  }
}

describe("real agent CLIs against the scripted model server", { concurrency: agentClis.length }, () => {
  const root = mkdtempSync(join(tmpdir(), "cook-agent-clis-"));
  after(() => rmSync(root, { recursive: true, force: true }));
  before(() => {
    const missing = agentClis.map(agentCliMissing).filter(Boolean);
    assert.deepEqual(missing, [], "install them with scripts/install-agent-clis.sh");
  });

  for (const cli of agentClis) {
    describe(cli, { concurrency: false }, () => {
      let made = 0;
      const freshDir = (kind: string): string => {
        const dir = join(root, cli, `${kind}-${++made}`);
        mkdirSync(dir, { recursive: true });
        return dir;
      };
      const freshSession = (login: AgentLogin): AgentSession => startAgentSession(login, freshDir("session"));
      const login = (server: ModelServer) => prepareAgentLogin(cli, server.url, { dir: freshDir("login") });
      const place = () => ({ home: freshDir("home"), tmpDir: freshDir("tmp") });

      it("writes a file and commits it with its own tools, and a resume by the id it printed commits again", async (t) => {
        t.diagnostic(`network isolation: ${networkIsolation()}`);
        await withServer(t, async (server) => {
          const session = freshSession(login(server));
          const repo = await makeWorkRepo([{ "README.md": "a repository for a scripted agent\n" }]);
          const { home, tmpDir } = place();
          const common = { session, server, cwd: repo, env: gitIdentity, home, tmpDir };

          const first = await runAgentCli(cli, { ...common, prompt: "Add a greeting file and commit it. [script:commit-file]" });
          record(t, cli, "commit-file", first);
          assert.equal(first.code, 0, shown(first));
          assert.equal(readFileSync(join(repo, "hello.txt"), "utf8"), "hello from the scripted model\n");
          assert.equal((await gitOk(["log", "-1", "--format=%s"], { cwd: repo })).trim(), "Add hello.txt");
          const id = streamSessionId(first.stdout);
          assert.ok(id, `no session id in the stream\n${shown(first)}`);

          const resumed = await runAgentCli(cli, { ...common, prompt: "Now add a second file. [script:commit-second-file]", resume: id });
          record(t, cli, "resume", resumed);
          assert.equal(resumed.code, 0, shown(resumed));
          assert.equal(streamSessionId(resumed.stdout), id, "the resumed run reports another session");
          assert.equal(readFileSync(join(repo, "second.txt"), "utf8"), "second file, written after a resume\n");
          assert.equal((await gitOk(["log", "--format=%s"], { cwd: repo })).trim(), "Add second.txt\nAdd hello.txt\ncommit 1");
          assert.equal(await gitOk(["status", "--porcelain"], { cwd: repo }), "");

          // Every model turn reached the scripted server, in order, and nothing tried to get past it.
          assert.deepEqual(modelTurns(server), ["commit-file#0 200", "commit-file#1 200", "commit-file#2 200", "commit-second-file#0 200", "commit-second-file#1 200", "commit-second-file#2 200"]);
          assert.deepEqual(server.outbound, []);
          // Session state lives in the config folder, none of it in HOME.
          assert.deepEqual(readdirSync(home), []);
          rmSync(repo, { recursive: true, force: true });
        });
      });

      it("gives up with a non-zero exit when every model request is refused with 429", async (t) => {
        await withServer(t, async (server) => {
          const session = freshSession(login(server));
          // Fewer retries than by default, where the CLI has a setting for it: the defaults back off for minutes.
          if (cli === "gemini") limitGeminiAttempts(session, 2);
          const repo = await makeWorkRepo([{ "README.md": "rate limited\n" }]);
          const env = { ...gitIdentity, ...(cli === "claude" ? { CLAUDE_CODE_MAX_RETRIES: "2" } : {}) };
          const run = await runAgentCli(cli, { session, server, cwd: repo, env, ...place(), prompt: "Try anything. [script:rate-limited]" });
          record(t, cli, "rate-limit", run);
          assert.notEqual(run.code, 0, shown(run));
          const turns = modelTurns(server);
          assert.ok(turns.length >= 2, `it did not retry: ${turns.join(", ")}`);
          assert.deepEqual(new Set(turns), new Set(["rate-limited#0 429"]));
          assert.deepEqual(server.outbound, []);
          rmSync(repo, { recursive: true, force: true });
        });
      });

      it("refuses to resume a session id it does not know, without asking the model", async (t) => {
        await withServer(t, async (server) => {
          const session = freshSession(login(server));
          const repo = await makeWorkRepo([{ "README.md": "nothing to resume\n" }]);
          const run = await runAgentCli(cli, { session, server, cwd: repo, env: gitIdentity, ...place(), prompt: "Carry on. [script:commit-file]", resume: expected[cli].badResumeId });
          record(t, cli, "bad-resume-id", run);
          assert.equal(run.code, expected[cli].badResumeExit, shown(run));
          assert.deepEqual(modelTurns(server), []);
          assert.equal(await gitOk(["status", "--porcelain"], { cwd: repo }), "");
          rmSync(repo, { recursive: true, force: true });
        });
      });
    });
  }
});

/** Gemini CLI's retry limit is a setting (general.maxAttempts), not a flag. */
function limitGeminiAttempts(session: AgentSession, attempts: number): void {
  const path = join(session.configDir, ".gemini", "settings.json");
  const settings = JSON.parse(readFileSync(path, "utf8")) as { general?: Record<string, unknown> };
  settings.general = { ...settings.general, maxAttempts: attempts };
  writeFileSync(path, `${JSON.stringify(settings, null, 2)}\n`);
}
