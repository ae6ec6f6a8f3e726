import assert from "node:assert/strict";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { packageRoot } from "../../../src/config/package-root.js";
import { seedAppRepo } from "../../helpers/branch-fixture.js";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { tempDir } from "../../helpers/git.js";
import { agentApi, type SessionJson } from "../../helpers/agent-api.js";
import { eventually } from "../../helpers/wait.js";


// A stand-in for Claude Code that replays a recorded run which hit the subscription's session
// limit ("resets 9am (Europe/Berlin)"), then exits 1 as the CLI does.
const recorded = join(packageRoot(), "test", "fixtures", "agent-streams", "claude", "public-2.1.220-session-limit.jsonl");

describe("an agent that hits a rate limit", () => {
  let cook: RunningCook;
  before(async () => {
    const dir = tempDir();
    const limited = join(dir, "claude-limited");
    writeFileSync(limited, `#!/bin/sh\ncat "${recorded}"\nexit 1\n`);
    chmodSync(limited, 0o755);
    const takeover = join(dir, "takeover.sh");
    writeFileSync(takeover, `#!/bin/sh\nprintf '%s\\n' "$1" | head -3\n`);
    chmodSync(takeover, 0o755);
    cook = await startCook({
      config: [
        "[agents.limited]",
        'kind = "claude"',
        `command = "${limited}"`,
        'env = { ANTHROPIC_API_KEY = "test-key-123456" }',
        "[agents.limited-with-fallback]",
        'kind = "claude"',
        `command = "${limited}"`,
        'env = { ANTHROPIC_API_KEY = "test-key-123456" }',
        'fallback = ["takeover"]',
        "[agents.takeover]",
        'kind = "command"',
        `command = "${takeover}"`,
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


  it("is paused until the limit resets, as the CLI said, with a paused event", async () => {
    const created = await api<{ session: SessionJson }>("POST", "/api/branches", { repo: "app", name: "limited", agent: "limited", prompt: "work" });
    const paused = await ended(created.session.id);
    assert.equal(paused.status, "paused");
    // "resets 9am (Europe/Berlin)": the next 9:00 in Berlin, 07:00 or 08:00 UTC.
    assert.match(paused.resumeAt!, /T0[78]:00:00\.000Z$/);
    assert.ok(Date.parse(paused.resumeAt!) > Date.now());
    assert.match(paused.reason!, /^rate limited: .*; resumes at /);
    // The log shows events once the outbox relay has published them, a moment after the commit.
    await eventually(async () => {
      const events = await api<{ events: Array<{ type: string; data: { session: string } }> }>("GET", `/api/events?after=0&limit=1000&subject=${encodeURIComponent("cook.agent.app.limited.>")}`);
      return events.events.some((e) => e.type === "agent.paused" && e.data.session === created.session.id) || undefined;
    }, 10_000, "the paused event");
  });

  it("hands the work to its fallback agent: a new session told what the first one did", async () => {
    const created = await api<{ branch: { id: string }; session: SessionJson }>("POST", "/api/branches", { repo: "app", name: "handed-over", agent: "limited-with-fallback", prompt: "work" });
    const first = await ended(created.session.id);
    assert.equal(first.status, "failed");
    assert.match(first.reason!, /^rate limited \(.*\); handed over to takeover$/);
    const sessions = await eventually(async () => {
      const found = await api<{ sessions: SessionJson[] }>("GET", `/api/branches/${created.branch.id}`);
      return found.sessions.length === 2 ? found.sessions : undefined;
    }, 10_000, "the fallback session");
    assert.equal(sessions[1]!.agent, "takeover");
    await ended(sessions[1]!.id);
    const { events } = await api<{ events: Array<{ kind: string; text?: string }> }>("GET", `/api/sessions/${sessions[1]!.id}/events`);
    assert.match(events[0]!.text!, /^You are taking over this branch from the agent 'limited-with-fallback' \(session ses_\w+\), which hit a rate limit\./);
  });
});
