import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { launchBrowser } from "../helpers/browser.js";
import { startCook, type RunningCook } from "../helpers/cook.js";
import { gitOk, makeWorkRepo, revParse } from "../helpers/git.js";
import { abbreviate, measureOverflow } from "../helpers/page-overflow.js";
import type { AgentEvent } from "../../src/core/agent-event.js";
import { newId } from "../../src/core/ids.js";
import { insertAgentEvents } from "../../src/db/agent-event-store.js";
import { insertSession, updateSession } from "../../src/db/agent-session-store.js";
import { insertPlan, updatePlan } from "../../src/db/plan-store.js";
import { openPglite } from "../../src/db/pglite.js";
import { eventually } from "../helpers/wait.js";

// The longest names Cook accepts, none with a space where a line could break.
const repo = `wide-repo-${"r".repeat(90)}`; // 100, the limit of a repo name
const emptyRepo = `empty-repo-${"e".repeat(89)}`;
const branch = `feature/${"a".repeat(150)}/${"b".repeat(90)}`; // 249 of 255, with slashes
const tag = `v1.0-${"t".repeat(200)}`;
const reviewBranch = `review/${"c".repeat(150)}/${"d".repeat(90)}`;
const dir = `src/${"d".repeat(120)}/${"n".repeat(100)}`;
const file = `${dir}/${"f".repeat(120)}.ts`;
const subject = `Subject${"S".repeat(300)}`;
const taskId = `task-${"i".repeat(59)}`; // 64, the limit of a task id
const blockedId = `blocked-${"j".repeat(56)}`;
const wontfixId = `wontfix-${"k".repeat(56)}`;
const subTaskId = `sub-${"s".repeat(60)}`;
const title = `Title${"T".repeat(195)}`; // 200, the limit of a title
const eventName = `deployed-${"x".repeat(55)}`; // 64, the limit of a custom event name
const word = (n: number) => `Unbroken${"w".repeat(n)}`;

const readme = `# ${word(150)}

A paragraph with ${word(300)} in it and a link to <https://example.com/${"p".repeat(200)}>.

\`\`\`
${word(400)}
\`\`\`

| ${word(80)} | ${word(80)} | ${word(80)} |
|---|---|---|
| a | b | c |
`;

// A phone as a phone: it honours <meta name="viewport">, and without one lays the page out 980 px wide.
const viewports = [
  { width: 375, height: 740, isMobile: true },
  { width: 1280, height: 800, isMobile: false },
];

describe("page widths", () => {
  let cook: RunningCook;
  let browser: Browser;
  let pages: string[];
  let missing: string[]; // error pages
  let codePages: string[]; // a long and a short line of code, in a file and in a diff
  const planId = newId("pln");

  before(async () => {
    const source = await makeWorkRepo([{ "README.md": readme, [file]: `export const value = "${word(600)}";\nexport const other = 1;\n` }]);
    await gitOk(["checkout", "--quiet", "-b", branch], { cwd: source });
    writeFileSync(join(source, file), `export const value = "${word(700)}";\n`);
    const author = { GIT_AUTHOR_NAME: word(100), GIT_AUTHOR_EMAIL: `${"m".repeat(100)}@example.com` };
    await gitOk(["commit", "--quiet", "--all", "-m", `${subject}\n\n${word(500)}`], { cwd: source, env: author });
    await gitOk(["tag", "-m", word(200), tag], { cwd: source });
    const sha = await revParse(source, branch);

    [cook, browser] = await Promise.all([startCook(), launchBrowser()]);
    for (const args of [
      ["repo", "add", repo, `--clone=${source}`],
      ["repo", "add", emptyRepo],
      ["task", "create", repo, `--title=${title}`, `--id=${taskId}`, `--body=# ${word(120)}\n\n${word(300)}\n\n    ${word(300)}\n`],
      // Closed as won't fix: its page has Reopen, and the page of the task that waits on it says who decides.
      ["task", "create", repo, `--title=${title}`, `--id=${wontfixId}`],
      ["task", "close", wontfixId, "--resolution=wontfix"],
      ["events", "publish", repo, eventName, "--branch", branch, "--data", JSON.stringify({ url: `https://ci.example.com/${"u".repeat(300)}`, list: [word(200)] })],
    ]) {
      const result = await cook.cli(args);
      assert.equal(result.code, 0, `cook ${args[0]} ${args[1]}: ${result.stderr}`);
    }
    // A task that waits on the first two, with a long extra front-matter value: its page lists every id.
    const taskFile = join(mkdtempSync(join(tmpdir(), "cook-task-")), "task.md");
    writeFileSync(taskFile, `---\nid: ${blockedId}\ntitle: ${title}\nrepo: ${repo}\ndepends_on: [${taskId}, ${wontfixId}]\nowner: ${word(200)}\n${"k".repeat(100)}: ${word(100)}\n---\n${word(200)}\n`);
    const blocked = await cook.cli(["task", "create", "--file", taskFile]);
    assert.equal(blocked.code, 0, blocked.stderr);

    // Branches: a long one pushed on top of the default branch (tracked by the push, no
    // environment), and one named after the long task id with a local environment holding an
    // untracked file with a long name and a long line.
    await gitOk(["checkout", "--quiet", "-b", reviewBranch], { cwd: source });
    writeFileSync(join(source, file), `export const value = "${word(800)}";\n`);
    await gitOk(["commit", "--quiet", "--all", "-m", subject], { cwd: source });
    await gitOk(["push", "--quiet", `${cook.url}/${repo}.git`, reviewBranch], { cwd: source });
    await eventually(async () => (await fetch(`${cook.url}/api/branches/${repo}/${reviewBranch}`)).ok || undefined, 10_000, "the pushed branch tracked");
    const created = await cook.cli(["branch", "create", repo, "--task", taskId, "--env=local", "--json"]);
    assert.equal(created.code, 0, created.stderr);
    const taskBranch = JSON.parse(created.stdout) as { branch: { id: string }; environment: { path: string } };
    writeFileSync(join(taskBranch.environment.path, `${"u".repeat(200)}.txt`), `${word(500)}\n`);
    // A sub-task of the long task: its branch sits under the task's on the dashboard, "into" its long name.
    for (const args of [
      ["task", "create", repo, `--title=${title}`, `--id=${subTaskId}`, `--parent=${taskId}`],
      ["branch", "create", repo, "--task", subTaskId, "--env=none"],
    ]) {
      const result = await cook.cli(args);
      assert.equal(result.code, 0, `cook ${args[0]} ${args[1]}: ${result.stderr}`);
    }

    // An agent session on the task's branch whose every kind of event holds an unbroken run of
    // text: written into the store with the server stopped (the embedded store is one process's).
    await cook.stop();
    const db = await openPglite(join(cook.dataDir, "db"));
    try {
      const session = newId("ses");
      await insertSession(db, { id: session, branchId: taskBranch.branch.id, environmentId: undefined, agent: word(30), kind: "claude", model: word(60), createdBy: "local" });
      const long: AgentEvent[] = [
        { kind: "session_started", nativeId: word(200), model: word(100) },
        { kind: "user_prompt", text: word(400) },
        { kind: "assistant_message", text: `${word(400)}\n\n\`\`\`\n${word(600)}\n\`\`\`\n\n| ${word(80)} | ${word(80)} |\n|---|---|\n| a | b |\n` },
        { kind: "reasoning", text: word(400) },
        { kind: "tool_call", callId: "c1", name: word(60), input: { command: word(500), file_path: `${dir}/${"f".repeat(120)}.ts` } },
        { kind: "tool_result", callId: "c1", output: `${word(900)}\n${word(700)}\n`, isError: false },
        { kind: "tool_call", callId: "c3", name: "Edit", input: { file_path: `${dir}/${"g".repeat(160)}.ts`, old_string: word(400), new_string: `${word(600)}\n${word(300)}` } },
        { kind: "tool_result", callId: "c2", output: word(900), isError: true },
        { kind: "file_change", changes: [{ path: file, change: "update" }] },
        { kind: "usage", inputTokens: 123_456_789, outputTokens: 98_765_432, cacheReadTokens: 1_000_000_000, costUsd: 1234.5678 },
        { kind: "error", message: word(500), rateLimited: true, retryAt: "2026-01-01T00:00:00.000Z" },
        { kind: "raw", stream: "stderr", text: word(800) },
        { kind: "raw", stream: "stdout", text: word(120) },
        { kind: "turn_completed", isError: true, result: word(500), numTurns: 3, durationMs: 4_000_000, totalCostUsd: 12.5 },
      ];
      await insertAgentEvents(db, session, 1, 1, long);
      await updateSession(db, session, { status: "waiting", reason: `asked for help: ${word(300)}`, outcome: "help", runEnded: true });
      // A drafted plan whose goal is one long word, with a layer of five long-named drafts waiting on
      // the long task: its graph is wider than a phone and scrolls in its own box.
      await insertPlan(db, { id: planId, repo, goal: word(400), agent: word(30), createdBy: "local" });
      const draftIds = ["a", "b", "c", "d", "e"].map((c) => `draft-${c.repeat(58)}`);
      await updatePlan(db, planId, {
        state: "drafted",
        drafts: draftIds.map((id, i) => ({ id, title, body: word(300), priority: 2, dependsOn: i === 4 ? [taskId, draftIds[0]!] : [taskId], stage: word(20), ...(i === 3 ? { parent: draftIds[0] } : {}) })),
      });
    } finally {
      await db.close();
    }
    cook = await startCook({ env: { COOK_DATA_DIR: cook.dataDir } });

    const r = `/repos/${repo}`;
    const b = `/branches/${repo}`;
    codePages = [`${r}/blob/main/${file}`, `${r}/commit/${sha}`, `${b}/${reviewBranch}`];
    missing = [`${r}/blob/${branch}/${dir}/no-such-${"z".repeat(200)}.ts`, `/tasks/${"missing-".repeat(8)}`, `${b}/no-such-${"z".repeat(200)}`];
    pages = [
      "/",
      "/events",
      `/events?subject=${encodeURIComponent(`cook.custom.${repo}.${eventName}`)}`,
      "/tasks",
      "/tasks/new",
      `/tasks/${taskId}`,
      `/tasks/${blockedId}`,
      `/tasks/${wontfixId}`,
      `/tasks/${subTaskId}`,
      `/tasks/${subTaskId}/edit`,
      `/tasks/${taskId}/edit`,
      "/repos",
      r,
      `/repos/${emptyRepo}`,
      `${r}/tree/${branch}`,
      `${r}/tree/${branch}/${dir}`,
      `${r}/blob/${branch}/${file}`,
      `${r}/blob/main/README.md`,
      `${r}/blob/main/README.md?plain`,
      `${r}/commits/${branch}`,
      `${r}/commits/${branch}/${file}`,
      ...codePages,
      `${r}/branches`,
      `${r}/tags`,
      `${r}/tree/${tag}`,
      "/branches",
      `/branches?repo=${repo}`,
      "/branches/new",
      `/branches/new?repo=${repo}&task=${taskId}`,
      `${b}/${reviewBranch}`,
      `${b}/${reviewBranch}?tab=work`,
      `${b}/${reviewBranch}?tab=terminal`,
      `${b}/${reviewBranch}?tab=setup`,
      `${b}/${taskId}`,
      `${b}/${taskId}?tab=work`,
      `${b}/${taskId}?tab=setup`,
      `${b}/${subTaskId}`,
      "/repos/new",
      "/factory",
      `/factory?repo=${repo}&days=90`,
      `/factory?repo=${emptyRepo}&days=7`,
      `/plans/${planId}`,
      ...missing,
    ];
  });
  after(async () => {
    await browser?.close();
    await cook?.stop();
  });

  for (const viewport of viewports) {
    it(`fits every page into a ${viewport.width} px wide viewport without sideways scrolling`, async () => {
      const context = await browser.newContext({ viewport: { width: viewport.width, height: viewport.height }, isMobile: viewport.isMobile, hasTouch: viewport.isMobile });
      const page = await context.newPage();
      const failures: string[] = [];
      // What a page loads besides itself (style sheets, scripts, the icon) is there: no 404 in a console.
      page.on("response", (response) => {
        if (response.request().resourceType() !== "document" && response.status() >= 400) failures.push(`${abbreviate(response.url())} answered ${response.status()} on ${abbreviate(page.url())}`);
      });
      try {
        for (const path of pages) {
          const response = await page.goto(`${cook.url}${path}`);
          const status = response?.status();
          if (status !== (missing.includes(path) ? 404 : 200)) failures.push(`${abbreviate(path)} answered ${status}`);
          const { scrollWidth, innerWidth, offenders } = await measureOverflow(page, viewport.width);
          if (scrollWidth > viewport.width || innerWidth > viewport.width) {
            failures.push(`${abbreviate(path)} is ${Math.max(scrollWidth, innerWidth)} px wide:\n    ${offenders.join("\n    ") || "(no element sticks out)"}`);
          }
        }
      } finally {
        await context.close();
      }
      assert.deepEqual(failures, [], `pages wider than ${viewport.width} px:\n  ${failures.join("\n  ")}`);
    });
  }

  it("keeps lines of code whole on a phone and scrolls them inside their own block", async () => {
    const context = await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    try {
      for (const path of codePages) {
        await page.goto(`${cook.url}${path}`);
        const code = await page.locator("table.code").first().evaluate((table: { scrollWidth: number; clientWidth: number; querySelectorAll(s: string): ArrayLike<{ getBoundingClientRect(): { height: number } }> }) => ({
          scrollWidth: table.scrollWidth,
          clientWidth: table.clientWidth,
          rowHeights: Array.from(table.querySelectorAll("tr:not(.hunk)"), (row) => Math.round(row.getBoundingClientRect().height)),
        }));
        assert.ok(code.clientWidth <= 375 && code.scrollWidth > 4000, `${abbreviate(path)}: the code block is ${code.clientWidth} px wide and scrolls over ${code.scrollWidth} px`);
        assert.equal(new Set(code.rowHeights).size, 1, `${abbreviate(path)}: a 700-character line is as tall as a short one (${code.rowHeights.join(", ")} px)`);
      }
    } finally {
      await context.close();
    }
  });
});
