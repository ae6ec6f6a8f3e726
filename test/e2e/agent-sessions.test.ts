import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { seedAppRepo } from "../helpers/branch-fixture.js";
import { launchBrowser } from "../helpers/browser.js";
import { commandAgentsConfig } from "../helpers/command-agents.js";
import { startCook, type RunningCook } from "../helpers/cook.js";

// `command` agents (the prompt is the last argument; each stdout line becomes a message).
const agentScripts: Record<string, string> = {
  // Waits a moment so that the page is there before it talks, then talks slowly, commits and is done;
  // a follow-up (COOK_RESUME=1) answers and commits again.
  streamer: `#!/bin/sh
commit() { echo "$1" >> work.txt; git add work.txt && git -c user.name=Agent -c user.email=agent@example.com commit -qm "$1"; }
if [ -n "$COOK_RESUME" ]; then
  sleep 3
  echo "Follow-up received: $1"
  sleep 0.3
  commit "follow-up" && echo "committed the follow-up"
  cook done
  exit 0
fi
sleep 3
for i in 1 2 3 4 5; do echo "step $i of **five** for: $1"; sleep 0.3; done
echo "warming up" >&2
commit "first" && echo "committed"
cook done
`,
  sleeper: `#!/bin/sh
echo "sleeping on: $1"
sleep 120
`,
  helper: `#!/bin/sh
echo "I cannot tell which database to use."
cook ask-for-help "PostgreSQL or Redis?"
sleep 5
`,
};

// The document as the test reads it (the test build has no DOM typings).
interface Doc { querySelector(selector: string): { innerHTML: string } | null }

describe("agent sessions in the browser", () => {
  let cook: RunningCook;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  before(async () => {
    const config = commandAgentsConfig(agentScripts, "[defaults]\nagent = \"streamer\"\n[budgets]\nhelp_grace_seconds = 1\n");
    [cook, browser] = await Promise.all([startCook({ config }), launchBrowser()]);
    await seedAppRepo(cook);
    page = await browser.newPage();
    page.on("pageerror", (err) => errors.push(err.message));
  });
  after(async () => {
    await browser?.close();
    await cook?.stop();
  });

  const api = async <T>(path: string, body: unknown): Promise<T> => {
    const response = await fetch(`${cook.url}${path}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    assert.ok(response.ok, `${path}: ${response.status} ${await response.clone().text()}`);
    return (await response.json()) as T;
  };
  const waitForHtmx = () => page.waitForFunction(() => Boolean((globalThis as { htmx?: unknown }).htmx));
  const mark = () => page.evaluate(() => ((globalThis as { marker?: number }).marker = 1));
  const marked = async () => (await page.evaluate(() => (globalThis as { marker?: number }).marker)) === 1;
  const events = () => page.locator("ol.agent-events > li.ev");
  /** The sessions as the page shows them, whitespace between tags aside. */
  const sessionsHtml = () => page.evaluate(() => (globalThis as unknown as { document: Doc }).document.querySelector("[data-sessions]")!.innerHTML.replace(/>\s+</g, "><").trim());
  const status = () => page.locator(".session-head .pill").first().textContent();
  /** A new branch with an environment, and its first agent started from the prompt box of its Agent tab. */
  async function startFromPromptBox(name: string, agent: string, prompt: string): Promise<void> {
    await api("/api/branches", { repo: "app", name, env: "local" });
    await page.goto(`${cook.url}/branches/app/${name}?tab=agent`);
    await page.fill("#prompt", prompt);
    await page.selectOption("select[name=agent]", agent);
    await Promise.all([page.waitForURL(`${cook.url}/branches/app/${name}`), page.click("button[name=send]")]);
    await waitForHtmx();
  }

  it("starts an agent from the prompt box, shows its events as they come, and replays the finished session identically", async () => {
    await startFromPromptBox("live", "streamer", "write the work file");
    await mark();
    // The agent waits 3 s before it talks (a loaded CI machine takes over a second to show the page): what it says arrives over the stream.
    assert.equal(await page.locator("text=step 5 of").count(), 0);
    await page.locator("li.ev >> text=step 1 of five for: write the work file").waitFor({ timeout: 20_000 });
    await page.locator("li.ev >> text=step 5 of five").waitFor({ timeout: 20_000 });
    await page.locator(".session-head .pill.agent-completed").waitFor({ timeout: 20_000 });
    assert.ok(await marked(), "the events came without a reload");
    assert.equal(await page.locator("li.ev strong", { hasText: "five" }).count(), 5);
    assert.equal(await page.locator("p.raw-stderr", { hasText: "warming up" }).count(), 1);
    // The Interrupt button went with the run.
    assert.equal(await page.locator(".interrupt-form").count(), 0);

    const live = await sessionsHtml();
    const seqs = await events().evaluateAll((items) => items.map((item) => Number((item as unknown as { dataset: { seq: string } }).dataset.seq)));
    assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1));
    await page.reload();
    assert.equal(await sessionsHtml(), live);
  });

  it("sends a follow-up from the prompt box and follows the resumed run", async () => {
    await page.goto(`${cook.url}/branches/app/live`);
    const before = await events().count();
    await page.fill("#prompt", "one more thing");
    await Promise.all([page.waitForURL(`${cook.url}/branches/app/live`), page.click("button[name=send]")]);
    await waitForHtmx();
    await mark();
    await page.locator("li.ev >> text=Follow-up received: one more thing").waitFor({ timeout: 20_000 });
    await page.locator(".session-head .pill.agent-completed").waitFor({ timeout: 20_000 });
    assert.ok(await marked());
    assert.match((await page.locator(".session-facts").first().textContent()) ?? "", /^2 runs · /);
    assert.equal(await page.locator(".user-prompt .who", { hasText: "run 2" }).count(), 1);
    assert.ok((await events().count()) > before + 2);
    const live = await sessionsHtml();
    await page.reload();
    assert.equal(await sessionsHtml(), live);
  });

  it("shows a session started elsewhere (the CLI, the API) on an open page as it starts", async () => {
    const created = await api<{ branch: { id: string } }>("/api/branches", { repo: "app", name: "watched", env: "local" });
    await page.goto(`${cook.url}/branches/app/watched?tab=agent`);
    await waitForHtmx();
    await mark();
    assert.equal(await page.locator(".no-sessions").count(), 1);
    await api(`/api/branches/${created.branch.id}/prompt`, { agent: "streamer", prompt: "from the API" });
    await page.locator(".session-head .pill.agent-running").waitFor({ timeout: 20_000 });
    await page.locator("li.ev >> text=step 5 of five for: from the API").waitFor({ timeout: 20_000 });
    await page.locator(".session-head .pill.agent-completed").waitFor({ timeout: 20_000 });
    assert.ok(await marked(), "the session came without a reload");
    assert.equal(await page.locator(".no-sessions, .no-events").count(), 0);
    const live = await sessionsHtml();
    await page.reload();
    assert.equal(await sessionsHtml(), live);
  });

  it("interrupts a sleeping agent with the button", async () => {
    await startFromPromptBox("sleepy", "sleeper", "take a nap");
    await page.locator("li.ev >> text=sleeping on: take a nap").waitFor({ timeout: 20_000 });
    assert.equal(await status(), "running");
    await Promise.all([page.waitForURL(`${cook.url}/branches/app/sleepy`), page.click("button[name=interrupt]")]);
    assert.equal(await status(), "interrupted");
    assert.equal(await page.locator(".session-reason").first().textContent(), "interrupted by local");
    assert.equal(await page.locator(".interrupt-form").count(), 0);
  });

  it("shows the help badge in the inbox as soon as an agent asks for help", async () => {
    await page.goto(`${cook.url}/tasks`);
    await waitForHtmx();
    await mark();
    const task = await api<{ task: { id: string } }>("/api/tasks", { repo: "app", title: "Pick a cache" });
    await api("/api/branches", { repo: "app", name: "cache", env: "local", task: task.task.id, agent: "helper", prompt: "add a cache" });
    const row = page.locator(`#task-${task.task.id}`);
    await row.locator(".waiting-badge").waitFor({ timeout: 20_000 });
    assert.equal(await row.locator(".help-message").textContent(), "asked for help: PostgreSQL or Redis?");
    assert.ok(await marked(), "the inbox updated without a reload");
    assert.deepEqual(errors, []);
  });
});
