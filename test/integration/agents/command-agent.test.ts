import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { seedAppRepo } from "../../helpers/branch-fixture.js";
import type { SessionJson } from "../../helpers/agent-api.js";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { lsRemote, tempDir } from "../../helpers/git.js";
import { eventually } from "../../helpers/wait.js";


interface EventJson {
  seq: number;
  run: number;
  kind: string;
  text?: string;
  stream?: string;
}

// The scripted agent: what it does is chosen by its prompt (its last argument). It marks its
// processes with the session id so a test can tell whether any is left.
const agentScript = `#!/bin/sh
echo "prompt: $1"
echo "resume=$COOK_RESUME session=$COOK_SESSION_ID secret=$MY_API_KEY"
echo "to stderr" >&2
case "$1" in
  *commit-and-done*) echo one > one.txt; git add one.txt; git commit -qm "one"; cook done ;;
  *commit-only*) echo two > two.txt; git add two.txt; git commit -qm "two" ;;
  *leave-dirty*) echo dirty > dirty.txt ;;
  *ask*) cook ask-for-help "which colour should the button be?"; sleep 60 ;;
  *sleep*) sh -c 'sleep 600; true' "cook-agent-sleeper-$COOK_SESSION_ID" & wait ;;
  *garbage*) printf '\\033]0;pwned\\007\\001\\002 not json {"x":\\n'; head -c 100000000 /dev/zero | tr '\\0' a; echo; echo after ;;
  *fail*) echo "boom: cannot open /tmp/run-$$/x at 12:00:01" >&2; exit 3 ;;
  *loop*) i=0; while [ $i -lt 100 ]; do echo "same line"; i=$((i+1)); done; sleep 600 ;;
  *escape*)
    COOK_BRANCH=done-path cook ask-for-help "not mine" >/dev/null 2>&1; echo "help-other-branch=$?"
    cook task create app --title=sneaky >/dev/null 2>&1; echo "task-create=$?"
    cook task list --repo web >/dev/null 2>&1; echo "other-repo=$?"
    cook branch abandon app/done-path >/dev/null 2>&1; echo "abandon-other=$?"
    git commit -q --allow-empty -m escape
    git push -q origin +HEAD:refs/heads/done-path >/dev/null 2>&1; echo "push-other=$?"
    git push -q origin HEAD:refs/heads/main >/dev/null 2>&1; echo "push-main=$?"
    git push -q origin HEAD:refs/heads/brand-new >/dev/null 2>&1; echo "push-new=$?" ;;
  *) echo "nothing to do" ;;
esac
`;

describe("agent sessions with a command agent", () => {
  let cook: RunningCook;
  let url: string;
  before(async () => {
    const dir = tempDir();
    const script = join(dir, "agent.sh");
    writeFileSync(script, agentScript);
    chmodSync(script, 0o755);
    const notExecutable = join(dir, "not-executable");
    writeFileSync(notExecutable, "#!/bin/sh\n");
    cook = await startCook({
      config: [
        "[agents.scripted]",
        'kind = "command"',
        `command = "${script}"`,
        'env = { MY_API_KEY = "sk-test-0123456789abcdef" }',
        "[agents.ghost]",
        'kind = "claude"',
        'command = "/nonexistent/claude"',
        'env = { ANTHROPIC_API_KEY = "x-test-key-123456" }',
        "[agents.unrunnable]",
        'kind = "codex"',
        `command = "${notExecutable}"`,
        'env = { OPENAI_API_KEY = "x-test-key-123456" }',
        "[agents.nologin]",
        'kind = "gemini"',
        `home = "${dir}/no-such-home"`,
        "[budgets]",
        "help_grace_seconds = 1",
        "same_error_attempts = 2",
      ].join("\n"),
      env: { GEMINI_API_KEY: undefined, GOOGLE_API_KEY: undefined },
    });
    url = cook.url;
    await seedAppRepo(cook);
  });
  after(() => cook?.stop());

  const api = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${url}${path}`, { method, headers: body === undefined ? {} : { "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as T };
  };
  const create = async (name: string, prompt: string, extra: Record<string, unknown> = {}) => {
    const created = await api<{ branch: { id: string }; session: SessionJson }>("POST", "/api/branches", { repo: "app", name, agent: "scripted", prompt, ...extra });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body;
  };
  const session = async (id: string) => (await api<{ session: SessionJson }>("GET", `/api/sessions/${id}`)).body.session;
  const ended = (id: string, timeoutMs = 30_000) =>
    eventually(async () => {
      const s = await session(id);
      return s.status === "running" ? undefined : s;
    }, timeoutMs, `session ${id} to end`);
  const events = async (id: string) => (await api<{ events: EventJson[] }>("GET", `/api/sessions/${id}/events`)).body.events;
  type BusEvent = { type: string; data: Record<string, unknown> };
  // The log shows events once the outbox relay has published them, a moment after their commit.
  const busEvents = (pattern: string, until: (events: BusEvent[]) => boolean) =>
    eventually(async () => {
      const events = (await api<{ events: BusEvent[] }>("GET", `/api/events?after=0&limit=1000&subject=${encodeURIComponent(pattern)}`)).body.events;
      return until(events) ? events : undefined;
    }, 10_000, `events of ${pattern}`);

  it("runs the agent in the environment, keeps its events in order, and cook done pushes and completes the session", async () => {
    const { branch, session: started } = await create("done-path", "commit-and-done");
    assert.match(started.id, /^ses_[0-7][0-9a-hjkmnp-tv-z]{25}$/);
    assert.equal(started.status, "running");
    const done = await ended(started.id);
    assert.equal(done.status, "completed", JSON.stringify(done));
    assert.equal(done.runs, 1);
    const stored = await events(started.id);
    assert.deepEqual(stored.map((e) => e.seq), stored.map((_, i) => i + 1));
    assert.deepEqual(stored[0], { ...stored[0], kind: "user_prompt", text: "commit-and-done", run: 1 });
    const messages = stored.filter((e) => e.kind === "assistant_message").map((e) => e.text);
    assert.equal(messages[0], "prompt: commit-and-done");
    assert.match(messages[1]!, /^resume= session=ses_/);
    // The configured API key is masked wherever the output is kept.
    assert.match(messages[1]!, /secret=••••••$/);
    assert.ok(stored.some((e) => e.kind === "raw" && e.stream === "stderr" && e.text === "to stderr"));
    // The commit reached the forge by push, through the hooks.
    const head = (await lsRemote(`${url}/app.git`))["refs/heads/done-path"];
    assert.ok(head);
    await busEvents("cook.branch.app.done-path.>", (events) => events.some((e) => e.type === "branch.pushed"));
    const agentEvents = await busEvents("cook.agent.app.done-path.>", (events) => events.some((e) => e.type === "agent.completed"));
    assert.deepEqual([...new Set(agentEvents.map((e) => e.type))], ["agent.started", "agent.output", "agent.completed"]);
    // The output events, together, carry every stored event once, in order.
    const published = agentEvents.filter((e) => e.type === "agent.output").flatMap((e) => e.data.events as EventJson[]);
    assert.deepEqual(published.map((e) => e.seq), stored.map((e) => e.seq));
    assert.equal((await api<{ sessions: SessionJson[] }>("GET", `/api/branches/${branch.id}`)).body.sessions.length, 1);
  });

  it("the environment's token cannot touch another branch, task or repo", async () => {
    const before = await api<{ sessions: SessionJson[] }>("GET", "/api/branches/app/done-path");
    const { session: started } = await create("escaper", "escape");
    await ended(started.id);
    const said = (await events(started.id)).filter((e) => e.kind === "assistant_message").map((e) => e.text);
    for (const attempt of ["help-other-branch", "task-create", "other-repo", "abandon-other", "push-other", "push-main", "push-new"]) {
      const line = said.find((text) => text?.startsWith(`${attempt}=`));
      assert.ok(line && line !== `${attempt}=0`, `${attempt} must be refused: ${line}`);
    }
    const after = await api<{ sessions: SessionJson[] }>("GET", "/api/branches/app/done-path");
    assert.deepEqual(after.body.sessions, before.body.sessions);
    const tasks = await api<{ tasks: Array<{ title: string }> }>("GET", "/api/tasks?repo=app");
    assert.ok(!tasks.body.tasks.some((t) => t.title === "sneaky"));
  });

  it("a follow-up resumes the same session as a new run, and is refused while the session runs", async () => {
    const { branch, session: started } = await create("follow-up", "sleep");
    const busy = await api<{ error: { message: string } }>("POST", `/api/branches/${branch.id}/prompt`, { prompt: "more" });
    assert.equal(busy.status, 409);
    assert.match(busy.body.error.message, /is running; wait for it to end or interrupt it/);
    await api("POST", `/api/branches/${branch.id}/interrupt`, {});
    const resumed = await api<{ session: SessionJson }>("POST", `/api/branches/${branch.id}/prompt`, { prompt: "nothing" });
    assert.equal(resumed.status, 202);
    assert.equal(resumed.body.session.id, started.id);
    assert.equal(resumed.body.session.runs, 2);
    const after = await ended(started.id);
    assert.equal(after.runs, 2);
    const stored = await events(started.id);
    assert.ok(stored.some((e) => e.run === 2 && e.kind === "assistant_message" && /^resume=1 /.test(e.text!)));
  });

  it("interrupt kills the agent's whole process tree and marks the session interrupted", async () => {
    const { branch, session: started } = await create("interrupted", "sleep");
    const marker = `cook-agent-sleeper-${started.id}`;
    await eventually(() => processesNamed(marker).length > 0 || undefined, 10_000, "the agent's child process");
    const interrupted = await api<{ session: SessionJson }>("POST", `/api/branches/${branch.id}/interrupt`, {});
    assert.equal(interrupted.status, 200);
    assert.equal(interrupted.body.session.status, "interrupted");
    assert.equal(interrupted.body.session.reason, "interrupted by local");
    await eventually(() => processesNamed(marker).length === 0 || undefined, 5_000, "no process of the agent left");
    const again = await api<{ error: { message: string } }>("POST", `/api/branches/${branch.id}/interrupt`, {});
    assert.equal(again.status, 409);
  });

  it("ask-for-help sends the task to a human, ends the run, and an answer resumes it with the task back in progress", async () => {
    const task = (await api<{ task: { id: string } }>("POST", "/api/tasks", { repo: "app", title: "Pick a colour" })).body.task;
    const { branch, session: started } = await create("", "ask", { task: task.id, name: undefined });
    const taskStatus = async () => (await api<{ task: { status: string } }>("GET", `/api/tasks/${task.id}`)).body.task.status;
    await eventually(async () => ((await taskStatus()) === "needs_human" ? true : undefined), 20_000, "the task to need a human");
    const waiting = await ended(started.id);
    assert.equal(waiting.status, "waiting");
    assert.equal(waiting.reason, "asked for help: which colour should the button be?");
    const isHelp = (e: BusEvent) => e.type === "agent.help" && e.data.session === started.id;
    const help = (await busEvents("cook.agent.app.>", (events) => events.some(isHelp))).find(isHelp);
    assert.equal(help?.data.message, "which colour should the button be?");
    const all = await busEvents("cook.agent.app.>", (events) => events.some((e) => e.data.session === started.id && e.type === "agent.output" && e.data.status === "waiting"));
    assert.equal(all.filter(isHelp).length, 1, "asking for help is announced once");
    const answered = await api<{ session: SessionJson }>("POST", `/api/branches/${branch.id}/prompt`, { prompt: "blue; commit-and-done" });
    assert.equal(answered.body.session.id, started.id);
    assert.equal(await taskStatus(), "in_progress");
    assert.equal((await ended(started.id)).status, "completed");
  });

  it("a run that ends without cook done: commits are pushed; uncommitted changes or no commits wait on a human, saying why", async () => {
    const pushed = await create("exit-with-commit", "commit-only");
    const pushedEnd = await ended(pushed.session.id);
    assert.equal(pushedEnd.status, "completed");
    assert.match(pushedEnd.reason!, /without cook done; its commits were pushed/);
    assert.ok((await lsRemote(`${url}/app.git`))["refs/heads/exit-with-commit"]);

    const dirty = await create("exit-dirty", "leave-dirty");
    const dirtyEnd = await ended(dirty.session.id);
    assert.equal(dirtyEnd.status, "waiting");
    assert.equal(dirtyEnd.reason, "the run ended with uncommitted changes: dirty.txt");

    const idle = await create("exit-idle", "nothing");
    assert.equal((await ended(idle.session.id)).reason, "the run ended without commits");
  });

  it("a failing run is failed with its error; the same error twice on a task sends the task to a human", async () => {
    const task = (await api<{ task: { id: string } }>("POST", "/api/tasks", { repo: "app", title: "Flaky thing" })).body.task;
    const { branch, session: started } = await create("failing", "fail", { task: task.id });
    const first = await ended(started.id);
    assert.equal(first.status, "failed");
    assert.equal(first.exitCode, 3);
    assert.match(first.reason!, /^boom: cannot open/);
    assert.equal((await api<{ task: { status: string } }>("GET", `/api/tasks/${task.id}`)).body.task.status, "in_progress");
    await api("POST", `/api/branches/${branch.id}/prompt`, { prompt: "fail again" });
    await eventually(async () => ((await session(started.id)).runs === 2 && (await session(started.id)).status !== "running" ? true : undefined), 20_000, "the second run");
    // Different temp path, pid and time: the same error once those are taken out.
    assert.equal((await api<{ task: { status: string } }>("GET", `/api/tasks/${task.id}`)).body.task.status, "needs_human");
  });

  it("garbage and a 100 MB line are kept as bounded raw text while the server goes on serving", async () => {
    const { session: started } = await create("garbage", "garbage");
    // Others are served while the agent pours out its line.
    let slowest = 0;
    while ((await session(started.id)).status === "running") {
      const asked = Date.now();
      assert.equal((await fetch(`${url}/healthz`)).status, 200);
      slowest = Math.max(slowest, Date.now() - asked);
    }
    assert.ok(slowest < 1000, `the server answered within a second while it read the line (slowest ${slowest} ms)`);
    await ended(started.id);
    const stored = await events(started.id);
    const long = stored.find((e) => e.kind === "assistant_message" && (e.text?.length ?? 0) > 1000) ?? stored.find((e) => e.kind === "raw" && (e.text?.length ?? 0) > 1000);
    assert.ok(long, "the long line is kept");
    assert.ok(Buffer.byteLength(long.text!) <= 64 * 1024 + 100, `bounded to 64 KiB: ${Buffer.byteLength(long.text!)} bytes`);
    assert.ok(stored.some((e) => e.text === "after"), "the line after it is read too");
  });

  it("bad input: unknown agent 422 naming the configured ones, prompt over the limit 413, nothing created", async () => {
    const unknown = await api<{ error: { message: string } }>("POST", "/api/branches", { repo: "app", name: "never", agent: "nope", prompt: "x" });
    assert.equal(unknown.status, 422);
    assert.equal(unknown.body.error.message, "unknown agent 'nope'; this server has claude, codex, cursor, gemini, ghost, nologin, opencode, scripted, unrunnable");
    const huge = await api<{ error: { message: string } }>("POST", "/api/branches", { repo: "app", name: "never", agent: "scripted", prompt: "a".repeat(70_000) });
    assert.equal(huge.status, 413);
    assert.equal((await lsRemote(`${url}/app.git`))["refs/heads/never"], undefined);
    const noPrompt = await api<{ error: { message: string } }>("POST", "/api/branches", { repo: "app", name: "never", agent: "scripted" });
    assert.equal(noPrompt.status, 422);
    // A field that is an object where text belongs (one whose toString is not a function makes String() throw).
    const hostile = { toString: "x" };
    for (const field of ["agent", "name", "env", "base"]) {
      const odd = await api<{ error: { message: string } }>("POST", "/api/branches", { repo: "app", name: "never", agent: "scripted", prompt: "x", [field]: hostile });
      assert.equal(odd.status, 422, `${field}: ${JSON.stringify(odd.body)}`);
    }
    assert.equal((await api("POST", "/api/branches/adopt", { repo: hostile, name: "x" })).status, 422);
    assert.equal((await lsRemote(`${url}/app.git`))["refs/heads/never"], undefined);
  });

  it("a missing or non-executable program, or a missing login, fails the session at once with what to do", async () => {
    const cases: Array<[string, RegExp]> = [
      ["ghost", /^agent 'ghost': program '\/nonexistent\/claude' not found/],
      ["unrunnable", /^agent 'unrunnable': .*not-executable is not executable$/],
      ["nologin", /^agent 'nologin' has no login: run `gemini` once on the server's machine to log in \(or set GEMINI_API_KEY/],
    ];
    for (const [agent, reason] of cases) {
      const created = await api<{ session: SessionJson }>("POST", "/api/branches", { repo: "app", name: `bad-${agent}`, agent, prompt: "hello" });
      assert.equal(created.status, 201);
      const failed = await ended(created.body.session.id, 5_000);
      assert.equal(failed.status, "failed");
      assert.match(failed.reason!, reason);
    }
  });

  it("the CLI: cook done outside an environment is one line and exit 1; branch prompt and log follow a session", async () => {
    const outside = await cook.cli(["done"], { env: { COOK_REPO: undefined, COOK_BRANCH: undefined } });
    assert.equal(outside.code, 1);
    assert.equal(outside.stderr.trim().split("\n").length, 1);
    assert.match(outside.stderr, /cook done runs inside a Cook environment/);
    const created = await cook.cli(["branch", "create", "app", "cli-agent", "--agent=scripted", "--prompt=nothing here"]);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /agent scripted started: session ses_/);
    // A follow-up resumes the session's own agent; naming another is refused, not ignored.
    const other = await cook.cli(["branch", "prompt", "cli-agent", "hello", "--agent=ghost"]);
    assert.deepEqual([other.code, other.stderr], [1, "cook: branch 'cli-agent' has a session of agent 'scripted', which a follow-up resumes; --agent names the agent of a branch's first session only\n"]);
    const followed = await cook.cli(["branch", "prompt", "cli-agent", "commit-and-done", "--follow", "--agent=scripted"]);
    assert.equal(followed.code, 0, followed.stderr);
    assert.match(followed.stdout, /user_prompt +commit-and-done\nassistant_message +prompt: commit-and-done\n/);
    assert.match(followed.stdout, /session ses_\S+ completed\n$/);
    const log = await cook.cli(["branch", "log", "cli-agent"]);
    assert.match(log.stdout, /^user_prompt +nothing here\n/);
  });
});

/** Processes whose command line contains `marker`. */
function processesNamed(marker: string): string[] {
  try {
    return execFileSync("pgrep", ["-f", marker], { encoding: "utf8" }).trim().split("\n").filter(Boolean);
  } catch {
    return [];
  }
}
