import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { seedAppRepo } from "../../helpers/branch-fixture.js";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { tempDir } from "../../helpers/git.js";
import { agentApi } from "../../helpers/agent-api.js";

// A stand-in for Claude Code that reports what its config folder holds, the way a real one would
// find its login there.
const stub = `#!/bin/sh
echo '{"type":"system","subtype":"init","session_id":"7d7d7d7d-0000-4000-8000-000000000001"}'
cd "$CLAUDE_CONFIG_DIR" && for f in .credentials.json settings.json; do
  [ -f "$f" ] && echo "$f $(stat -c %a "$f") $(cat "$f")"
done
[ -d projects ] && echo "history copied"
echo "tmp=$TMPDIR"
`;

describe("an agent's login comes from the user's home, copied per session, gone with the environment", () => {
  let cook: RunningCook;
  let home: string;
  before(async () => {
    home = tempDir();
    mkdirSync(join(home, ".claude", "projects", "old"), { recursive: true });
    writeFileSync(join(home, ".claude", ".credentials.json"), '{"token":"oauth"}');
    writeFileSync(join(home, ".claude", "settings.json"), "{}");
    writeFileSync(join(home, ".claude", "projects", "old", "history.jsonl"), "{}\n");
    const program = join(home, "claude-stub");
    writeFileSync(program, stub);
    chmodSync(program, 0o755);
    cook = await startCook({
      config: ["[agents.claude]", `command = "${program}"`, "[agents.codex]", 'command = "/bin/true"'].join("\n"),
      env: { HOME: home, ANTHROPIC_API_KEY: undefined, OPENAI_API_KEY: undefined, CODEX_API_KEY: undefined },
    });
    await seedAppRepo(cook);
  });
  after(() => cook?.stop());
  const { api, ended } = agentApi({
    get url() {
      return cook.url;
    },
  });


  it("seeds the session's config folder with the login files (0600), not the history, and removes them at teardown", async () => {
    const created = await api<{ branch: { id: string }; environment: { path: string }; session: { id: string } }>("POST", "/api/branches", { repo: "app", name: "logged-in", agent: "claude", prompt: "hi" });
    await ended(created.session.id);
    const { events } = await api<{ events: Array<{ kind: string; text?: string }> }>("GET", `/api/sessions/${created.session.id}/events`);
    const said = events.filter((e) => e.kind === "raw").map((e) => e.text);
    assert.ok(said.includes('.credentials.json 600 {"token":"oauth"}'), said.join(" | "));
    assert.ok(said.includes("settings.json 600 {}"));
    assert.ok(!said.includes("history copied"));
    const tmp = said.find((line) => line?.startsWith("tmp="))!.slice(4);
    assert.ok(tmp.startsWith(`${created.environment.path}.cook/`), `a TMPDIR of the session's own: ${tmp}`);
    assert.ok(existsSync(tmp));
    await api("POST", `/api/branches/${created.branch.id}/abandon`, {});
    assert.ok(!existsSync(`${created.environment.path}.cook`), "the session's copy goes with the environment");
  });

  it("an agent with no login anywhere fails at once, saying how to log in", async () => {
    const created = await api<{ session: { id: string } }>("POST", "/api/branches", { repo: "app", name: "no-login", agent: "codex", prompt: "hi" });
    const end = await ended(created.session.id);
    assert.equal(end.status, "failed");
    assert.equal(end.reason, "agent 'codex' has no login: run `codex login` on the server's machine (or set OPENAI_API_KEY in [agents.codex] env)");
  });
});
