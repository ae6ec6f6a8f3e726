#!/usr/bin/env node
// The branch page of a finished agent session of 10,000 events of mixed kinds (messages in
// markdown, reasoning, tool calls and their 30-line results, file changes, usage, stderr lines,
// errors; 10 runs, each from its prompt to its end), written straight into the store with
// insertAgentEvents as a run would have written them:
//   - GET /branches/<repo>/<name> (its Agent tab: the newest events, the rest a click away),
//     server time (the request log's ms): the first load after a restart, then median of 20  [≤ 200 ms]
//   - the same page's earliest stretch (?session=…&before=<window + 1>), median of 10
//   - "Show earlier events" as htmx asks for it (the fragment alone), median of 10
// Run on the embedded store (the default) and, when it is reachable, on PostgreSQL.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { benchGit, dist, fmtMs, onEachStore, report, requireBuild, round, startServer, stats, tempDir, timedGet, removeDir, now } from "./lib/common.mjs";

requireBuild();
const eventCount = 10_000;
const runs = 10;
const { insertAgentEvents } = await dist("src/db/agent-event-store.js");
const { insertSession, updateSession, addSessionUsages } = await dist("src/db/agent-session-store.js");
const { openPglite } = await dist("src/db/pglite.js");
const { openPostgres } = await dist("src/db/postgres.js");
const { newId } = await dist("src/core/ids.js");
const { eventWindowSize: window } = await dist("src/server/routes/web/branch-agent.js");
const shownText = window.toLocaleString("en-US");

/** Event `i` (0-based) of a run: a prompt first, its end last, a mix of everything in between. */
function mixedEvent(run, i, perRun) {
  if (i === 0) return { kind: "user_prompt", text: `Run ${run}: fix the failing parser tests, then commit and run cook done.` };
  if (i === perRun - 1) return { kind: "turn_completed", isError: false, numTurns: 40, durationMs: 93_000, totalCostUsd: 0.41 };
  const n = run * perRun + i;
  switch (i % 10) {
    case 0:
      return { kind: "assistant_message", text: `Step ${n}: I will **update** the \`parser\` so that it handles:\n\n- empty lines\n- a [link](https://example.com/docs/${n})\n\n\`\`\`ts\nconst limit = ${n};\n\`\`\`` };
    case 1:
      return { kind: "reasoning", text: `The test fails because the fixture at line ${n} has a trailing space; checking the loader first, then the tokenizer.` };
    case 2:
      return { kind: "tool_call", callId: `call_${n}`, name: "Bash", input: { command: `npm test -- --grep "case ${n}"`, description: "Run the failing test" } };
    case 3:
      return { kind: "tool_result", callId: `call_${n - 1}`, output: Array.from({ length: 30 }, (_, k) => `  ✔ parser case ${n}.${k} handles input of ${k * 17} bytes (${k} ms)`).join("\n"), isError: n % 7 === 0 };
    case 4:
      return { kind: "tool_call", callId: `call_${n}`, name: "Edit", input: { file_path: `src/parser/part-${n % 40}.ts`, old_string: "if (line === '')", new_string: "if (line.trim() === '')" } };
    case 5:
      return { kind: "tool_result", callId: `call_${n - 1}`, output: `The file src/parser/part-${(n - 1) % 40}.ts has been updated.`, isError: false };
    case 6:
      return { kind: "file_change", changes: [{ path: `src/parser/part-${n % 40}.ts`, change: "update" }, { path: `test/parser/part-${n % 40}.test.ts`, change: "add" }] };
    case 7:
      return { kind: "usage", inputTokens: 12_000 + n, outputTokens: 800, cacheReadTokens: 50_000, cacheWriteTokens: 1_200 };
    case 8:
      return { kind: "raw", stream: "stderr", text: `npm warn config production Use \`--omit=dev\` instead (step ${n}).` };
    default:
      return n % 20 === 9 ? { kind: "error", message: `tool call ${n} failed: exit status 1` } : { kind: "assistant_message", text: `Done with step ${n}; the next test is \`case ${n + 1}\`.` };
  }
}

/** A finished session of `eventCount` events on the branch, as a run would have stored them. */
async function writeSession(db, branchId) {
  const id = newId("ses");
  await insertSession(db, { id, branchId, environmentId: undefined, agent: "claude", kind: "claude", model: "bench-model", createdBy: "bench" });
  const perRun = eventCount / runs;
  for (let run = 1; run <= runs; run++) {
    const events = Array.from({ length: perRun }, (_, i) => mixedEvent(run, i, perRun));
    await insertAgentEvents(db, id, run, (run - 1) * perRun + 1, events);
  }
  await addSessionUsages(db, [{ sessionId: id, added: { inputTokens: 12_345_678, outputTokens: 800_000, cacheReadTokens: 50_000_000, cacheWriteTokens: 1_200_000, costUsd: 4.1 }, turns: 400, costSource: "reported" }]);
  await updateSession(db, id, { status: "completed", outcome: "done", reason: "finished with cook done", exitCode: 0, runEnded: true });
  return id;
}

async function api(url, method, path, body) {
  const response = await fetch(`${url}${path}`, { method, headers: { "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!response.ok) throw new Error(`${method} ${path} → ${response.status} ${await response.text()}`);
  return response.json();
}

const git = benchGit;
const timed = (server, path, query = "", headers = {}) => timedGet(server, path, { query, headers: { Accept: "text/html", ...headers } });

async function measure(label, env) {
  const dataDir = tempDir("cook-bench-agent-page-");
  const work = tempDir("cook-bench-agent-page-work-");
  let server = await startServer({ dataDir, env });
  try {
    git(["init", "--quiet", "--initial-branch=main", work]);
    writeFileSync(join(work, "README.md"), "# bench\n");
    git(["add", "."], work);
    git(["commit", "--quiet", "-m", "first"], work);
    await api(server.url, "POST", "/api/repos", { name: "bench", clone: work });
    const { branch } = await api(server.url, "POST", "/api/branches", { repo: "bench", name: "long-session", env: "none" });

    // The embedded store is one process's at a time: the session is written with the server stopped.
    const writeStart = now();
    let sessionId;
    if (env.COOK_DATABASE_URL) {
      const db = openPostgres(env.COOK_DATABASE_URL, { max: 1 });
      sessionId = await writeSession(db, branch.id).finally(() => db.close());
    } else {
      await server.stop();
      const db = await openPglite(join(dataDir, "db"));
      sessionId = await writeSession(db, branch.id).finally(() => db.close());
    }
    const writeMs = now() - writeStart;
    // A restarted server: no worker thread, template or query plan warmed by an earlier request.
    await server.stop();
    server = await startServer({ dataDir, env });

    const page = "/branches/bench/long-session";
    const first = await timed(server, page);
    const shown = (first.html.match(/<li class="ev /g) ?? []).length;
    if (!first.html.includes(`data-events="${sessionId}"`) || shown !== window) throw new Error(`the page shows ${shown} events of the session, not ${window}`);
    for (let r = 0; r < 3; r++) await timed(server, page);
    const warm = [];
    const warmWall = [];
    for (let r = 0; r < 20; r++) {
      const t = await timed(server, page);
      warm.push(t.server);
      warmWall.push(t.wall);
    }
    const earliestQuery = `?tab=agent&session=${sessionId}&before=${window + 1}`;
    const earliest = [];
    for (let r = 0; r < 10; r++) earliest.push((await timed(server, `/branches/${branch.id}`, earliestQuery)).server);
    const fragment = [];
    let fragmentBytes = 0;
    for (let r = 0; r < 10; r++) {
      const t = await timed(server, `/branches/${branch.id}`, `?tab=agent&session=${sessionId}&before=${eventCount - window + 1}`, { "HX-Request": "true", "HX-Target": `earlier-${sessionId}` });
      fragment.push(t.server);
      fragmentBytes = t.html.length;
    }
    return { label, writeMs, first: first.server, firstWall: first.wall, bytes: first.html.length, fragmentBytes, warm: stats(warm), warmWall: stats(warmWall), earliest: stats(earliest), fragment: stats(fragment) };
  } finally {
    await server.stop();
    removeDir(dataDir);
    removeDir(work);
  }
}

const results = await onEachStore("cook_bench_agent_page", measure);

const rows = [];
for (const run of results) {
  console.log(`\n${run.label}: a session of ${eventCount} events written in ${round(run.writeMs / 1000, 1)} s; its page is ${round(run.bytes / 1024, 0)} KiB`);
  console.log(`  branch page (newest ${shownText} events): median ${fmtMs(run.warm.median)} (p95 ${fmtMs(run.warm.p95)}, wall median ${fmtMs(run.warmWall.median)}); first load after a restart ${fmtMs(run.first)}`);
  console.log(`  earliest ${shownText} events: median ${fmtMs(run.earliest.median)}; "show earlier" fragment: median ${fmtMs(run.fragment.median)}`);
  rows.push(
    { metric: `${run.label}: branch page of a finished ${eventCount.toLocaleString("en-US")}-event session (its newest ${shownText} shown), server time median of 20`, value: round(run.warm.median, 1), unit: "ms", target: "≤ 200 ms", pass: run.warm.median <= 200, note: `p95 ${round(run.warm.p95, 1)} ms; wall median ${round(run.warmWall.median, 1)} ms; ${round(run.bytes / 1024, 0)} KiB of HTML` },
    { metric: `${run.label}: the same, first load after a restart`, value: round(run.first, 1), unit: "ms", note: "reference: this request starts the render workers (marked, sanitize-html) and compiles the templates" },
    { metric: `${run.label}: the session's earliest ${shownText} events (?session=…&before=${window + 1}), median of 10`, value: round(run.earliest.median, 1), unit: "ms" },
    { metric: `${run.label}: "Show earlier events" fragment (htmx), median of 10`, value: round(run.fragment.median, 1), unit: "ms", note: `${round(run.fragmentBytes / 1024, 0)} KiB` },
  );
}
report({
  benchmark: "agent-session-page",
  title: "Agent session page",
  rows,
  notes: [
    `One finished session of ${eventCount} events in ${runs} runs, written with insertAgentEvents (1,000 a statement): per run a prompt, then in turn markdown messages, reasoning, Bash and Edit calls with their results (30 lines, or one), file changes, usage, stderr lines and errors, and the run's end.`,
    `Server time is the request log's ms (request in → response body made), on a server restarted after the session was written. The page shows the newest ${shownText} events; earlier ones come ${shownText} at a time.`,
  ],
  raw: results,
});
