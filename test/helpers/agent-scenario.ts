import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { processesOfSession } from "../../src/agents/session-processes.js";
import type { Script } from "../fixtures/model-server/script.js";
import { startModelServer, type ModelServer } from "../fixtures/model-server/server.js";
import { agentCliMissing, agentCliPath, configDirPlaceholder, prepareAgentLogin, type AgentCli } from "./agent-clis.js";
import { seedAppRepo } from "./branch-fixture.js";
import { startCook, type RunningCook } from "./cook.js";
import { lsRemote } from "./git.js";
import { eventually } from "./wait.js";

/** The scripts Cook's end-to-end scenario plays, whatever the CLI. */
export const cookScripts: Record<string, Script> = {
  "cook-commit-done": [
    { tool: "write_file", path: "hello.txt", content: "hello from the scripted model\n", text: "Writing the file." },
    { tool: "shell", command: "git add -A && git commit -q -m 'Add hello.txt'" },
    { tool: "shell", command: "cook done" },
    { text: "Done: hello.txt is committed and pushed." },
  ],
  "cook-ask": [
    { tool: "shell", command: "cook ask-for-help 'Which colour should the button be?'" },
    { text: "I have asked for help." },
  ],
  "cook-answer": [
    { tool: "write_file", path: "colour.txt", content: "blue\n" },
    { tool: "shell", command: "git add -A && git commit -q -m 'Blue button' && cook done" },
    { text: "Blue it is." },
  ],
};

const toml = (value: string) => JSON.stringify(value);

/**
 * `[agents.<cli>]` of a Cook server config that runs the installed CLI against the scripted model
 * server: the login template as the agent's `home` (copied into each session's state folder), the
 * login's variables except those naming the per-session folder (Cook's adapter sets those), and
 * HTTP(S)_PROXY at the model server, which records and refuses any attempt to leave loopback.
 */
export function cookAgentConfig(cli: AgentCli, server: ModelServer): string {
  const login = prepareAgentLogin(cli, server.url);
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(login.env)) {
    if (!value.includes(configDirPlaceholder)) env[key] = value;
  }
  let home = login.configTemplate;
  if (cli === "gemini") home = join(login.configTemplate, ".gemini");
  if (cli === "opencode") {
    // Its config (the scripted provider, the pre-seeded plugin) is read from the template; its state is the session's.
    env.OPENCODE_CONFIG = join(login.configTemplate, "opencode.json");
    env.XDG_CONFIG_HOME = join(login.configTemplate, "config");
  }
  Object.assign(env, { HTTP_PROXY: server.url, HTTPS_PROXY: server.url, http_proxy: server.url, https_proxy: server.url, NO_PROXY: "127.0.0.1,localhost", no_proxy: "127.0.0.1,localhost" });
  return [
    `[agents.${cli}]`,
    `command = ${toml(agentCliPath(cli))}`,
    `home = ${toml(home)}`,
    `args = [${login.args.map(toml).join(", ")}]`,
    `env = { ${Object.entries(env).map(([key, value]) => `${key} = ${toml(value)}`).join(", ")} }`,
  ].join("\n");
}


interface SessionJson {
  id: string;
  status: string;
  reason?: string;
  runs: number;
  nativeId?: string;
}

/**
 * The issue's whole scenario with one real CLI, through Cook: task → branch with the agent → it
 * writes a file and commits → `cook done` pushes → the push reaches the forge → events stored in
 * order → a follow-up resumes the same native session → interrupt leaves no process → ask-for-help
 * sends the task to a human and an answer resumes it.
 */
export function describeRealAgent(cli: AgentCli): void {
  describe(`${cli}, the real CLI, driven by Cook against the scripted model server`, () => {
    let cook: RunningCook;
    let server: ModelServer;
    before(async () => {
      const missing = agentCliMissing(cli);
      if (missing) throw new Error(missing);
      server = await startModelServer({ scripts: cookScripts });
      cook = await startCook({ config: cookAgentConfig(cli, server) });
      await seedAppRepo(cook);
    });
    after(async () => {
      await cook?.stop();
      await server?.close();
    });

    const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const response = await fetch(`${cook.url}${path}`, { method, headers: body === undefined ? {} : { "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await response.text();
      if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
      return JSON.parse(text) as T;
    };
    const session = async (id: string) => (await api<{ session: SessionJson }>("GET", `/api/sessions/${id}`)).session;
    const endedAs = async (id: string, status: string) => {
      const end = await eventually(async () => {
        const s = await session(id);
        return s.status === "running" ? undefined : s;
      }, 120_000, `the ${cli} session to end`).catch(async (err: Error) => assert.fail(`${err.message}\n${await story(id)}`));
      if (end.status !== status) assert.fail(`${cli} session ${end.status}, expected ${status}: ${end.reason}\n${await story(id)}`);
      return end;
    };
    // What the session did, one line an event, for a failure's message.
    const story = async (id: string) =>
      (await api<{ events: Array<Record<string, unknown>> }>("GET", `/api/sessions/${id}/events`)).events
        .map((e) => `${e.run} ${e.kind} ${JSON.stringify(e.text ?? e.name ?? e.output ?? e.message ?? e.nativeId ?? "").slice(0, 200)}${e.input ? ` ${JSON.stringify(e.input).slice(0, 200)}` : ""}`)
        .join("\n") +
      `\nmodel server: ${server.requests.map((r) => `${r.path}${r.script ? ` ${r.script}#${r.step}` : ""}${r.side ? " side" : ""} ${r.status ?? "open"}`).join(", ")}`;
    const events = async (id: string) => (await api<{ events: Array<{ seq: number; run: number; kind: string; nativeId?: string; name?: string }> }>("GET", `/api/sessions/${id}/events`)).events;
    const forgeHead = async (branch: string) => (await lsRemote(`${cook.url}/app.git`))[`refs/heads/${branch}`];

    it("does the whole scenario", async (t) => {
      // Where the time went, printed with the result: a slow CLI on a busy machine shows which step.
      const started = Date.now();
      const steps: string[] = [];
      const step = (what: string) => steps.push(`${what} ${((Date.now() - started) / 1000).toFixed(1)} s`);
      try {
        await wholeScenario(step);
      } finally {
        t.diagnostic(`${cli} steps: ${steps.join(", ")}`);
      }
    });

    const wholeScenario = async (step: (what: string) => void) => {
      const task = (await api<{ task: { id: string } }>("POST", "/api/tasks", { repo: "app", title: `Say hello with ${cli}` })).task;
      const created = await api<{ branch: { id: string; name: string; baseCommit: string }; session: SessionJson }>("POST", "/api/branches", {
        repo: "app",
        task: task.id,
        agent: cli,
        prompt: "[script:cook-commit-done] Add hello.txt, commit it and finish.",
      });
      const id = created.session.id;
      const branch = created.branch.name;

      // The agent wrote, committed and ran cook done, which pushed through the forge.
      const first = await endedAs(id, "completed");
      step("first run");
      assert.ok(first.nativeId, "the CLI named its session");
      const head = await forgeHead(branch);
      assert.notEqual(head, created.branch.baseCommit);
      const stored = await events(id);
      assert.deepEqual(stored.map((e) => e.seq), stored.map((_, i) => i + 1), "events in order, none missing");
      assert.equal(stored[0]!.kind, "user_prompt");
      assert.ok(stored.some((e) => e.kind === "session_started" && e.nativeId === first.nativeId));
      assert.ok(stored.filter((e) => e.kind === "tool_call").length >= 3, "write, commit and cook done as tool calls");
      const pushed = await eventually(async () => {
        const log = await api<{ events: Array<{ type: string; data: { newSha?: string } }> }>("GET", `/api/events?after=0&limit=1000&subject=${encodeURIComponent(`cook.branch.app.${branch}.>`)}`);
        return log.events.find((e) => e.type === "branch.pushed" && e.data.newSha === head);
      }, 10_000, "the push's event");
      assert.ok(pushed);

      // A follow-up resumes the same native session.
      await api("POST", `/api/branches/${created.branch.id}/prompt`, { prompt: "[script:commit-second-file] Add a second file." });
      const second = await endedAs(id, "completed");
      step("follow-up");
      assert.equal(second.runs, 2);
      assert.equal(second.nativeId, first.nativeId);
      assert.notEqual(await forgeHead(branch), head, "the second commit was pushed when the run ended");

      // Interrupt: the CLI hangs on a reply that never ends; Cook kills it and everything it started.
      const before = server.requests.length;
      await api("POST", `/api/branches/${created.branch.id}/prompt`, { prompt: "[script:hang] Think about it." });
      await eventually(() => server.requests.slice(before).some((r) => r.script === "hang") || undefined, 60_000, "the hanging request");
      const interrupted = (await api<{ session: SessionJson }>("POST", `/api/branches/${created.branch.id}/interrupt`, {})).session;
      assert.equal(interrupted.status, "interrupted");
      await eventually(() => processesOfSession(id).length === 0 || undefined, 10_000, "no process of the session left");
      step("interrupt");

      // Help: the task waits on a human; the answer resumes the same session and the task goes on.
      await api("POST", `/api/branches/${created.branch.id}/prompt`, { prompt: "[script:cook-ask] Pick a colour." });
      await endedAs(id, "waiting");
      step("help");
      assert.equal((await api<{ task: { status: string } }>("GET", `/api/tasks/${task.id}`)).task.status, "needs_human");
      await api("POST", `/api/branches/${created.branch.id}/prompt`, { prompt: "[script:cook-answer] Blue." });
      assert.equal((await api<{ task: { status: string } }>("GET", `/api/tasks/${task.id}`)).task.status, "in_progress");
      const answered = await endedAs(id, "completed");
      step("answer");
      assert.equal(answered.nativeId, first.nativeId);
      assert.equal(answered.runs, 5);

      assert.deepEqual(server.outbound, [], "nothing tried to leave loopback");
    };
  });
}
