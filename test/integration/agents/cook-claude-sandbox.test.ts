import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startModelServer, type ModelServer } from "../../fixtures/model-server/server.js";
import { agentCliMissing } from "../../helpers/agent-clis.js";
import { cookAgentConfig, cookScripts } from "../../helpers/agent-scenario.js";
import { seedAppRepo } from "../../helpers/branch-fixture.js";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { lsRemote } from "../../helpers/git.js";
import { eventually } from "../../helpers/wait.js";

describe("a real CLI (Claude Code) in a sandboxed environment", () => {
  let cook: RunningCook;
  let server: ModelServer;
  before(async () => {
    const missing = agentCliMissing("claude");
    if (missing) throw new Error(missing);
    server = await startModelServer({ scripts: cookScripts });
    cook = await startCook({ config: cookAgentConfig("claude", server) });
    await seedAppRepo(cook);
  });
  after(async () => {
    await cook?.stop();
    await server?.close();
  });

  it("works, commits and pushes with cook done from inside bubblewrap", async () => {
    const response = await fetch(`${cook.url}/api/branches`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ repo: "app", name: "boxed-claude", env: "sandbox", agent: "claude", prompt: "[script:cook-commit-done] Add hello.txt." }),
    });
    assert.equal(response.status, 201, await response.clone().text());
    const created = (await response.json()) as { branch: { baseCommit: string }; session: { id: string } };
    const end = await eventually(async () => {
      const { session } = (await (await fetch(`${cook.url}/api/sessions/${created.session.id}`)).json()) as { session: { status: string; reason?: string } };
      return session.status === "running" ? undefined : session;
    }, 120_000, "the sandboxed session to end");
    assert.equal(end.status, "completed", end.reason);
    assert.notEqual((await lsRemote(`${cook.url}/app.git`))["refs/heads/boxed-claude"], created.branch.baseCommit);
    assert.deepEqual(server.outbound, []);
  });
});
