import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { AgentEvent } from "../../../src/core/agent-event.js";
import type { Db } from "../../../src/db/db.js";
import { insertAgentEvents, lastAgentEventSeq } from "../../../src/db/agent-event-store.js";
import { addSessionUsages } from "../../../src/db/agent-session-store.js";
import { openPostgres } from "../../../src/db/postgres.js";
import { eventWindowSize as W } from "../../../src/server/routes/web/branch-agent.js";
import { seedAppRepo } from "../../helpers/branch-fixture.js";
import { commandAgentsConfig } from "../../helpers/command-agents.js";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { createTestDatabase, type TestDatabase } from "../../helpers/database.js";
import { eventually } from "../../helpers/wait.js";

interface SessionJson {
  id: string;
  status: string;
  reason?: string;
  runs: number;
}

// `command` agents: the prompt is the last argument, each stdout line an assistant message.
const agentScripts: Record<string, string> = {
  // Talks (markdown, and markup that must not survive), writes to stderr, commits and says done.
  talker: `#!/bin/sh
echo "Working on: $1"
echo 'Some **bold** words, <script>alert("x")</script> and <img src=x onerror="alert(1)">'
echo "a line on stderr" >&2
echo "$1" >> work.txt
git add work.txt && git -c user.name=Agent -c user.email=agent@example.com commit -qm "talker: $1" && echo "committed"
cook done
`,
  helper: `#!/bin/sh
echo "I need to know which database to use."
cook ask-for-help "PostgreSQL or Redis for the cache?"
sleep 5
`,
  sleeper: `#!/bin/sh
echo "sleeping on: $1"
sleep 60
`,
};

describe("agent sessions on the branch page", () => {
  let cook: RunningCook;
  let database: TestDatabase;
  let db: Db;

  before(async () => {
    database = await createTestDatabase();
    db = openPostgres(database.url, { max: 1 });
    const config = commandAgentsConfig(agentScripts, "[defaults]\nagent = \"talker\"\n[budgets]\nhelp_grace_seconds = 1\n");
    cook = await startCook({ env: { COOK_DATABASE_URL: database.url }, config });
    await seedAppRepo(cook);
  });
  after(async () => {
    await cook?.stop();
    await db?.close();
    await database?.drop();
  });

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${cook.url}${path}`, { headers: { Accept: "text/html", ...headers }, redirect: "manual" });
    return { status: response.status, html: await response.text() };
  };
  const post = async (path: string, form: Record<string, string>) => {
    const response = await fetch(`${cook.url}${path}`, {
      method: "POST",
      headers: { Accept: "text/html", "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(form).toString(),
      redirect: "manual",
    });
    return { status: response.status, location: response.headers.get("location"), html: await response.text() };
  };
  const api = async <T>(path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${cook.url}${path}`, body === undefined ? {} : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    assert.ok(response.ok, `${path}: ${response.status} ${await response.clone().text()}`);
    return (await response.json()) as T;
  };
  const session = async (id: string) => (await api<{ session: SessionJson }>(`/api/sessions/${id}`)).session;
  const ended = (id: string) => eventually(async () => ((await session(id)).status === "running" ? undefined : session(id)), 20_000, `session ${id} to end`);
  /** A branch of repo `app` with a local environment and an agent session started on it. */
  async function branchWithAgent(name: string, agent: string, prompt: string, task?: string) {
    const created = await api<{ branch: { id: string }; session: SessionJson }>("/api/branches", { repo: "app", name, env: "local", agent, prompt, task });
    return { id: created.branch.id, session: created.session.id, page: `/branches/app/${name}` };
  }
  /** The seqs of the events shown on a page, in page order. */
  const seqsOf = (html: string) => [...html.matchAll(/<li class="ev [^"]*" data-seq="(\d+)">/g)].map((m) => Number(m[1]));

  it("replays a finished session on its branch page: its head, and its events in order, messages as sanitized markdown", async () => {
    const branch = await branchWithAgent("talk", "talker", "write the greeting");
    assert.equal((await ended(branch.session)).status, "completed");
    const { status, html } = await get(branch.page);
    assert.equal(status, 200);
    // The Agent tab is the page's default once an agent has worked on the branch.
    assert.match(html, /<a href="\/branches\/app\/talk" aria-current="page">Agent<\/a>/);
    assert.match(html, /<strong>talker<\/strong>\s*<span class="pill agent-completed"[^>]*>completed<\/span>/);
    assert.match(html, /1 run · 0 turns · 0 tokens in · 0 out · 0 cache · [\d.]+ (ms|s) · exit 0/);
    const seqs = seqsOf(html);
    assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1));
    assert.match(html, /<p class="who">Prompt · run 1<\/p><p class="prompt-text">write the greeting<\/p>/);
    assert.match(html, /<div class="markdown agent-message"><p>Some <strong>bold<\/strong> words, /);
    assert.doesNotMatch(html, /<script>alert|onerror=/);
    assert.match(html, /<p class="raw-line raw-stderr"><code>a line on stderr<\/code><\/p>/);
    // The summary names the agent and its state too.
    assert.match(html, /<dt>Agent<\/dt><dd class="agent-fact">talker <span class="pill agent-completed"/);
  });

  it("sends a follow-up from the prompt box and redirects back; the resumed run's events follow on the page", async () => {
    const branch = await branchWithAgent("follow", "talker", "first");
    await ended(branch.session);
    const sent = await post(`/branches/${branch.id}/prompt`, { prompt: "second, please" });
    assert.equal(sent.status, 303);
    assert.equal(sent.location, branch.page);
    const resumed = await ended(branch.session);
    assert.equal(resumed.runs, 2);
    const { html } = await get(branch.page);
    assert.match(html, /<p class="who">Prompt · run 2<\/p><p class="prompt-text">second, please<\/p>/);
    assert.match(html, /Working on: second, please/);
    assert.match(html, /2 runs · /);
    const seqs = seqsOf(html);
    assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1));
  });

  it("refuses a follow-up while the agent runs with 409 on the page, keeping what was typed, then interrupts it from the button", async () => {
    const branch = await branchWithAgent("busy", "sleeper", "a long job");
    await eventually(async () => (await get(branch.page)).html.includes("sleeping on: a long job") || undefined, 20_000, "the sleeper's first line");
    const running = await get(branch.page);
    assert.match(running.html, /<form class="interrupt-form" method="post" action="\/branches\/brn_\w+\/interrupt"><button type="submit" name="interrupt" class="danger">Interrupt<\/button><\/form>/);

    const refused = await post(`/branches/${branch.id}/prompt`, { prompt: "are you done yet?" });
    assert.equal(refused.status, 409);
    assert.match(refused.html, /<p class="form-error" role="alert">agent session ses_\w+ on &#39;busy&#39; is running; wait for it to end or interrupt it/);
    assert.match(refused.html, /<textarea id="prompt" name="prompt"[^>]*>are you done yet\?<\/textarea>/);
    assert.equal((await session(branch.session)).runs, 1);

    const interrupted = await post(`/branches/${branch.id}/interrupt`, {});
    assert.equal(interrupted.status, 303);
    assert.equal(interrupted.location, branch.page);
    const after = await session(branch.session);
    assert.equal(after.status, "interrupted");
    assert.equal(after.reason, "interrupted by local");
    const { html } = await get(branch.page);
    assert.match(html, /<span class="pill agent-interrupted"[^>]*>interrupted<\/span>/);
    assert.match(html, /<p class="session-reason">interrupted by local<\/p>/);
    assert.doesNotMatch(html, /class="interrupt-form"/);
  });

  it("answers a bad prompt or a needless interrupt on the page with its status, never a 500", async () => {
    const branch = await branchWithAgent("refusals", "talker", "quick");
    await ended(branch.session);
    const long = await post(`/branches/${branch.id}/prompt`, { prompt: "x".repeat(64 * 1024 + 1) });
    assert.equal(long.status, 413);
    assert.match(long.html, /<p class="form-error" role="alert">the prompt is 65537 bytes; at most 65536 bytes/);
    const empty = await post(`/branches/${branch.id}/prompt`, { prompt: "   " });
    assert.equal(empty.status, 422);
    assert.match(empty.html, /<p class="form-error" role="alert">give the agent a prompt: non-empty text<\/p>/);
    const idle = await post(`/branches/${branch.id}/interrupt`, {});
    assert.equal(idle.status, 409);
    assert.match(idle.html, /<p class="form-error" role="alert">agent session ses_\w+ on &#39;refusals&#39; is not running \(it is completed\)<\/p>/);
    const missing = await post("/branches/brn_01h2xcejqtf2nbrexx3vqjhp41/prompt", { prompt: "hello" });
    assert.equal(missing.status, 404);
    assert.equal((await session(branch.session)).runs, 1);
  });

  it("starts the first agent of a branch from the prompt box, with the agent chosen there", async () => {
    const created = await api<{ branch: { id: string } }>("/api/branches", { repo: "app", name: "fresh", env: "local" });
    const { html } = await get("/branches/app/fresh?tab=agent");
    assert.match(html, /<label for="prompt">Start an agent on this branch<\/label>/);
    assert.match(html, /<select name="agent">(<option>\w+<\/option>)*<option>helper<\/option>(<option>\w+<\/option>)*<option selected>talker<\/option><\/select>/);
    const sent = await post(`/branches/${created.branch.id}/prompt`, { prompt: "begin", agent: "talker" });
    assert.equal(sent.status, 303);
    const page = await eventually(async () => {
      const { html } = await get("/branches/app/fresh");
      return html.includes("agent-completed") ? html : undefined;
    }, 20_000, "the started session to complete");
    assert.match(page, /Working on: begin/);
  });

  it("shows a task waiting on you, with what its agent asked, in the inbox, on the dashboard and on the home page", async () => {
    const task = await api<{ task: { id: string } }>("/api/tasks", { repo: "app", title: "Add a cache" });
    const branch = await branchWithAgent("cache", "helper", "add a cache", task.task.id);
    await eventually(async () => ((await session(branch.session)).status === "waiting" ? true : undefined), 20_000, "the session to wait on a human");
    const help = "asked for help: PostgreSQL or Redis for the cache?";
    const badge = (reason: string) => new RegExp(`<span class="badge waiting-badge">waiting on you</span> <span class="help-message">${reason.replace(/[?]/g, "\\?")}</span>`);
    assert.match((await get("/tasks")).html, badge(help));
    assert.match((await get("/tasks?status=needs_human")).html, badge(help));
    const dashboard = (await get("/branches")).html;
    assert.match(dashboard, badge(help));
    assert.match(dashboard, /<td class="agent">helper <span class="pill agent-waiting" title="asked for help: [^"]*">waiting on you<\/span><\/td>/);
    const home = (await get("/")).html;
    assert.match(home, /<h2>Waiting on you<\/h2>/);
    assert.match(home, badge(help));
    const page = (await get(branch.page)).html;
    assert.match(page, /<p class="session-reason help">asked for help: PostgreSQL or Redis for the cache\?<\/p>/);
    assert.match(page, /<label for="prompt">Answer the agent<\/label>/);

    // The answer resumes the session and the task is back in progress: nothing waits any more.
    assert.equal((await post(`/branches/${branch.id}/prompt`, { prompt: "PostgreSQL" })).status, 303);
    await eventually(async () => ((await api<{ task: { status: string } }>(`/api/tasks/${task.task.id}`)).task.status === "needs_human" ? undefined : true), 20_000, "the task back in progress");
  });

  it("sums tokens and cost of the sessions on the branch, task and repo pages", async () => {
    const task = await api<{ task: { id: string } }>("/api/tasks", { repo: "app", title: "Count tokens" });
    const branch = await branchWithAgent("counted", "talker", "count", task.task.id);
    await ended(branch.session);
    await addSessionUsages(db, [{ sessionId: branch.session, added: { inputTokens: 1_234_567, outputTokens: 8_901, cacheReadTokens: 100, cacheWriteTokens: 23, costUsd: 0.42 }, turns: 3, costSource: "reported" }]);
    const sums = /1 agent session · 1,234,567 tokens in · 8,901 out · 123 cache · \$0\.42 · /;
    assert.match((await get(branch.page)).html, sums);
    assert.match((await get(`/tasks/${task.task.id}`)).html, sums);
    assert.match((await get("/repos/app")).html, /Agents: \d+ agent sessions · [\d,]+ tokens in · [\d,]+ out · [\d,]+ cache · \$0\.42/);
  });

  it("shows the newest events of a long session and brings the earlier ones in on request, each kind in its own form", async () => {
    const branch = await branchWithAgent("long", "talker", "go on");
    await ended(branch.session);
    const first = (await lastAgentEventSeq(db, branch.session)) + 1;
    const kinds: AgentEvent[] = [
      { kind: "reasoning", text: "thinking it over" },
      { kind: "tool_call", callId: "c", name: "Bash", input: { command: "npm test", description: "tests" } },
      { kind: "tool_result", callId: "c", output: "ok 1\nok 2\n", isError: false },
      { kind: "file_change", changes: [{ path: "src/a.ts", change: "update" }] },
      { kind: "usage", inputTokens: 10, outputTokens: 5 },
      { kind: "error", message: "the tool broke" },
      { kind: "raw", stream: "stdout", text: `${"long unbroken output ".repeat(20)}\nand a second line` },
      { kind: "turn_completed", isError: false, numTurns: 2, durationMs: 1500 },
    ];
    const events = Array.from({ length: 2 * W + 400 }, (_, i) => (i % 9 === 8 ? { kind: "assistant_message" as const, text: `message **${first + i}**` } : kinds[i % 9]!));
    await insertAgentEvents(db, branch.session, 1, first, events);
    const last = first + events.length - 1;

    const { html } = await get(branch.page);
    const shown = seqsOf(html);
    assert.equal(shown.length, W);
    assert.equal(shown.at(-1), last);
    assert.match(html, new RegExp(`<li class="earlier" id="earlier-${branch.session}"><a href="/branches/${branch.id}\\?tab=agent&amp;session=${branch.session}&amp;before=${last - W + 1}#session-${branch.session}"[^>]*>Show ${W.toLocaleString("en-US")} earlier events</a>`));
    assert.match(html, /<details class="tool-call"><summary><span class="tool-name">Bash<\/span> <code>npm test<\/code><\/summary><pre>\{\n  &quot;command&quot;: &quot;npm test&quot;,/);
    assert.match(html, /<details class="tool-result"><summary><span class="tool-name">result<\/span> <span class="meta">2 lines<\/span> <code>ok 1<\/code><\/summary><pre>ok 1\nok 2\n<\/pre><\/details>/);
    assert.match(html, /<p class="reasoning">thinking it over<\/p>/);
    assert.match(html, /<ul class="file-changes"><li><span class="change updated">update<\/span> <code>src\/a.ts<\/code><\/li><\/ul>/);
    assert.match(html, /<p class="agent-error" role="note"><strong>Error<\/strong> the tool broke<\/p>/);
    assert.match(html, /<details class="raw raw-stdout"><summary><code>long unbroken output/);
    assert.match(html, /<p class="turn-end">Run 1 ended · 2 turns · 1.5 s<\/p>/);
    assert.match(html, /<p>message <strong>\d+<\/strong><\/p>/);

    // Without JavaScript: the link is a page with the session's earlier stretch, not followed live.
    const earlier = await get(`/branches/${branch.id}?tab=agent&session=${branch.session}&before=${last - W + 1}`);
    const earlierSeqs = seqsOf(earlier.html);
    assert.deepEqual([earlierSeqs[0], earlierSeqs.at(-1), earlierSeqs.length], [last - 2 * W + 1, last - W, W]);
    assert.match(earlier.html, new RegExp(`<ol class="agent-events" data-events="${branch.session}" data-last="${last - W}">`));
    assert.match(earlier.html, /Show later events/);
    // With htmx: only the events (and the control for those before them), to put in the control's place.
    const fragment = await get(`/branches/${branch.id}?tab=agent&session=${branch.session}&before=${last - 2 * W + 1}`, { "HX-Request": "true", "HX-Target": `earlier-${branch.session}` });
    assert.doesNotMatch(fragment.html, /<html|<section/);
    const fragmentSeqs = seqsOf(fragment.html);
    assert.deepEqual([fragmentSeqs[0], fragmentSeqs.at(-1)], [1, last - 2 * W]);
    assert.doesNotMatch(fragment.html, /class="earlier"/);
  });

  it("answers an unknown session or a bad one on the branch page with 404 or 422", async () => {
    assert.equal((await get("/branches/app/talk?tab=agent&session=nonsense")).status, 422);
    assert.equal((await get("/branches/app/talk?tab=agent&session=ses_01h2xcejqtf2nbrexx3vqjhp41", { "HX-Request": "true", "HX-Target": "session-ses_01h2xcejqtf2nbrexx3vqjhp41" })).status, 404);
  });

  it("shows the change a file-writing tool call makes as removed and added lines", async () => {
    const branch = await branchWithAgent("edits", "talker", "edit it");
    await ended(branch.session);
    const first = (await lastAgentEventSeq(db, branch.session)) + 1;
    await insertAgentEvents(db, branch.session, 1, first, [
      { kind: "tool_call", callId: "e", name: "Edit", input: { file_path: "/work/src/a.ts", old_string: "const a = 1;", new_string: "const a = 2;\nconst b = <3>;" } },
      { kind: "tool_call", callId: "w", name: "write_file", input: { file_path: "notes.md", content: "new file\n" } },
      { kind: "tool_call", callId: "b", name: "Bash", input: { command: "ls" } },
    ]);
    const { html } = await get(branch.page);
    assert.match(html, /<div class="edit-diff"><p class="edit-diff-path"><span class="tool-name">Edit<\/span> <code>\/work\/src\/a.ts<\/code><\/p><pre><span class="del">-const a = 1;<\/span><span class="add">\+const a = 2;<\/span><span class="add">\+const b = &lt;3&gt;;<\/span><\/pre><\/div>/);
    assert.match(html, /<code>notes.md<\/code><\/p><pre><span class="add">\+new file<\/span><\/pre>/);
    assert.equal(html.match(/class="edit-diff"/g)?.length, 2, "a shell call has no diff");
  });
});
