import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { seedAppRepo } from "../../helpers/branch-fixture.js";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { gitOk, lsRemote, tempDir } from "../../helpers/git.js";
import { eventually } from "../../helpers/wait.js";

interface SessionJson {
  id: string;
  status: string;
  reason?: string;
  runs: number;
}

const agentScript = `#!/bin/sh
echo "prompt: $1 in $(pwd)"
case "$1" in
  *commit-and-done*) echo one > "one-$COOK_SESSION_ID.txt"; git add -A; git commit -qm "one"; cook done ;;
  *sleep*) sh -c 'sleep 600; true' "cook-agent-sleeper-$COOK_SESSION_ID" & wait ;;
  *whoami*) id -u; ls /root 2>&1 | head -1 ;;
  *) echo "nothing to do" ;;
esac
`;

function processesNamed(marker: string): string[] {
  try {
    return execFileSync("pgrep", ["-f", marker], { encoding: "utf8" }).trim().split("\n").filter(Boolean);
  } catch {
    return [];
  }
}

describe("agent sessions across restarts, from a push, and in a sandbox", () => {
  let cook: RunningCook;
  let dataDir: string;
  let config: string;
  let work: string;
  before(async () => {
    const dir = tempDir();
    const script = join(dir, "agent.sh");
    writeFileSync(script, agentScript);
    chmodSync(script, 0o755);
    config = ["[agents.scripted]", 'kind = "command"', `command = "${script}"`, "[defaults]", 'agent = "scripted"'].join("\n");
    dataDir = mkdtempSync(join(tmpdir(), "cook-agents-"));
    cook = await startCook({ config, env: { COOK_DATA_DIR: dataDir } });
    ({ work } = await seedAppRepo(cook));
  });
  after(() => cook?.stop());

  const api = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${cook.url}${path}`, { method, headers: body === undefined ? {} : { "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as T };
  };
  const session = async (id: string) => (await api<{ session: SessionJson }>("GET", `/api/sessions/${id}`)).body.session;
  const ended = (id: string) =>
    eventually(async () => {
      const s = await session(id);
      return s.status === "running" ? undefined : s;
    }, 30_000, `session ${id} to end`);
  const endedAs = async (id: string, status: string) => {
    const s = await ended(id);
    assert.equal(s.status, status, `session ${id}: ${s.reason}`);
    return s;
  };

  it("a crash leaves no session running and no agent process behind; a follow-up resumes the session", async () => {
    const created = await api<{ branch: { id: string }; session: SessionJson }>("POST", "/api/branches", { repo: "app", name: "crashy", prompt: "sleep" });
    const id = created.body.session.id;
    const marker = `cook-agent-sleeper-${id}`;
    await eventually(() => processesNamed(marker).length > 0 || undefined, 10_000, "the agent's process");
    assert.equal(await cook.stop("SIGKILL"), null);
    // The agent outlived the crash (it leads its own process group); the restarted server ends it.
    assert.ok(processesNamed(marker).length > 0);
    cook = await startCook({ config, env: { COOK_DATA_DIR: dataDir } });
    const after = await session(id);
    assert.equal(after.status, "interrupted");
    assert.match(after.reason!, /the server stopped while it ran/);
    await eventually(() => processesNamed(marker).length === 0 || undefined, 5_000, "the left-over agent to be killed");
    const resumed = await api<{ session: SessionJson }>("POST", `/api/branches/${created.body.branch.id}/prompt`, { prompt: "commit-and-done" });
    assert.equal(resumed.body.session.runs, 2);
    await endedAs(id, "completed");
  });

  it("a server that stops cleanly interrupts its runs with that reason", async () => {
    const created = await api<{ session: SessionJson }>("POST", "/api/branches", { repo: "app", name: "stopping", prompt: "sleep" });
    const marker = `cook-agent-sleeper-${created.body.session.id}`;
    await eventually(() => processesNamed(marker).length > 0 || undefined, 10_000, "the agent's process");
    assert.equal(await cook.stop("SIGTERM"), 0);
    assert.equal(processesNamed(marker).length, 0);
    cook = await startCook({ config, env: { COOK_DATA_DIR: dataDir } });
    const stopped = await session(created.body.session.id);
    assert.equal(stopped.status, "interrupted");
    assert.match(stopped.reason!, /the server stopped/);
  });

  it("git push -o agent -o prompt makes the branch, its environment and the session, which pushes its work", async () => {
    await gitOk(["checkout", "-q", "-b", "from-push"], { cwd: work });
    await gitOk(["push", "-q", "-o", "agent=scripted", "-o", "prompt=commit-and-done", `${cook.url}/app.git`, "from-push"], { cwd: work });
    const sessions = await eventually(async () => {
      const found = await api<{ sessions: SessionJson[] }>("GET", "/api/branches/app/from-push");
      return found.status === 200 && found.body.sessions.length > 0 ? found.body.sessions : undefined;
    }, 20_000, "the pushed branch's session");
    await endedAs(sessions[0]!.id, "completed");
    const head = (await lsRemote(`${cook.url}/app.git`))["refs/heads/from-push"];
    assert.notEqual(head, (await lsRemote(`${cook.url}/app.git`))["refs/heads/main"]);
  });

  it("in a sandboxed environment the agent runs as a non-root user that cannot see /root, and cook done still pushes", async () => {
    const created = await api<{ session: SessionJson }>("POST", "/api/branches", { repo: "app", name: "boxed", env: "sandbox", prompt: "whoami" });
    await endedAs(created.body.session.id, "waiting");
    const events = (await api<{ events: Array<{ kind: string; text?: string }> }>("GET", `/api/sessions/${created.body.session.id}/events`)).body.events;
    const said = events.filter((e) => e.kind === "assistant_message").map((e) => e.text);
    assert.equal(said[1], "1000");
    assert.equal(said[2], undefined, `nothing of /root is listed: ${said.join(" | ")}`);
    const branch = (await api<{ branch: { id: string } }>("GET", "/api/branches/app/boxed")).body.branch;
    await api("POST", `/api/branches/${branch.id}/prompt`, { prompt: "commit-and-done" });
    await endedAs(created.body.session.id, "completed");
    assert.ok((await lsRemote(`${cook.url}/app.git`))["refs/heads/boxed"]);
  });
});
