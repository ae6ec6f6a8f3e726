import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { launchBrowser } from "../helpers/browser.js";
import { commandAgentsConfig } from "../helpers/command-agents.js";
import { startCook, type RunningCook } from "../helpers/cook.js";
import { seedRepo } from "../helpers/gates.js";
import { abbreviate, measureOverflow } from "../helpers/page-overflow.js";
import { eventually } from "../helpers/wait.js";

// Titles and ids as long as Cook takes them, without a space to break at.
const longTitle = `Title${"T".repeat(195)}`;
const longId = `task-${"i".repeat(59)}`;
const planner = `#!/bin/sh
cat <<'PLAN'
\`\`\`cook-plan
{"tasks": [
 {"id": "${longId}", "title": "${longTitle}", "priority": 1},
 {"id": "second", "title": "Second", "depends_on": ["${longId}"]},
 {"id": "third", "title": "Third", "depends_on": ["${longId}"]}
]}
\`\`\`
PLAN
`;
const worker = `#!/bin/sh
echo ok > "done-$COOK_BRANCH.txt"
git add -A && git commit -qm "do $COOK_BRANCH" && git push -q origin HEAD && cook done
`;
const repo = `factory-repo-${"r".repeat(87)}`; // 100, the limit of a repo name

describe("The factory page in a browser", () => {
  let cook: RunningCook;
  let browser: Browser;
  let page: Page;
  let planId: string;

  before(async () => {
    [cook, browser] = await Promise.all([startCook({ config: commandAgentsConfig({ planner, worker }) }), launchBrowser()]);
    await seedRepo(cook, repo, { "cook.toml": `[autopilot]\nconcurrency = 2\nagent = "worker"\n\n[[gates]]\nname = "ci"\ncommand = "true"\n`, "README.md": "# r\n" });
    page = await browser.newPage();
  });
  after(async () => {
    await browser?.close();
    await cook?.stop();
  });

  it("shows empty states, then fills in live as a plan's tasks merge", async () => {
    await page.goto(`${cook.url}/factory?repo=${repo}`);
    assert.equal(await page.locator("#chart-merged .empty").textContent(), "No merges in the last 30 days.");
    assert.equal(await page.locator("#recent-plans .empty").count(), 1);

    const started = await fetch(`${cook.url}/api/repos/${repo}/plans`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ goal: "Everything", agent: "planner" }) });
    planId = ((await started.json()) as { plan: { id: string } }).plan.id;
    await eventually(async () => ((await (await fetch(`${cook.url}/api/plans/${planId}`)).json()) as { plan: { state: string } }).plan.state === "drafted" || undefined, 30_000, "the plan drafted");
    const accepted = await fetch(`${cook.url}/api/plans/${planId}/accept`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
    assert.equal(accepted.status, 200);

    // No reload: the page follows the factory's events.
    await page.locator('[data-figure="merged"]:text-is("3")').waitFor({ timeout: 90_000 });
    assert.equal(await page.locator("svg.chart").count(), 4);
    assert.equal(await page.locator("#chart-merged svg.chart rect.bar-merged").count(), 1, "one day, one column");
    assert.equal(await page.locator("#chart-cycle svg.chart circle.dot").count(), 3, "a dot per merged task");
    assert.equal(await page.locator("#chart-agents svg.chart rect.bar-agent").count(), 3);
    assert.equal(await page.locator("#chart-merged svg.chart title").first().textContent(), "Tasks merged per day");
    assert.equal(await page.locator(`#recent-plans a[href="/plans/${planId}"]`).count(), 1);
  });

  it("changes window from the filter, keeping the repo", async () => {
    await page.selectOption("select[name=days]", "7");
    await page.waitForURL(/days=7/);
    await page.locator('#chart-merged .figures:has-text("in the last 7 days")').waitFor();
    assert.equal(await page.locator('[data-figure="merged"]').textContent(), "3");
  });

  it("draws the plan's graph in layers, every node coloured by its task's state and linked to it", async () => {
    await page.goto(`${cook.url}/plans/${planId}`);
    const nodes = page.locator("svg.graph a.node");
    assert.equal(await nodes.count(), 3);
    assert.deepEqual(await nodes.evaluateAll((list) => list.map((a) => a.getAttribute("data-state"))), ["done", "done", "done"]);
    await page.click(`svg.graph a.node[data-task="${longId}"]`);
    await page.waitForURL(new RegExp(`/tasks/${longId}$`));
  });

  it("fits a 375 px phone: the factory page and the plan page do not scroll sideways", async () => {
    const context = await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
    const phone = await context.newPage();
    try {
      for (const path of [`/factory?repo=${repo}`, "/factory", `/plans/${planId}`]) {
        await phone.goto(`${cook.url}${path}`);
        const { scrollWidth, innerWidth, offenders } = await measureOverflow(phone, 375);
        assert.ok(scrollWidth <= 375 && innerWidth <= 375, `${abbreviate(path)} is ${Math.max(scrollWidth, innerWidth)} px wide:\n${offenders.join("\n")}`);
      }
      await phone.goto(`${cook.url}/factory?repo=${repo}`);
      const widths = await phone.locator("svg.chart").evaluateAll((list) => list.map((svg) => svg.getBoundingClientRect().width));
      for (const width of widths) assert.ok(width > 250 && width <= 375, `a chart ${width} px wide`);
      if (process.env.COOK_TEST_SCREENSHOTS) {
        await phone.screenshot({ path: `${process.env.COOK_TEST_SCREENSHOTS}/factory-375.png`, fullPage: true });
        await phone.goto(`${cook.url}/plans/${planId}`);
        await phone.screenshot({ path: `${process.env.COOK_TEST_SCREENSHOTS}/plan-375.png`, fullPage: true });
        await page.goto(`${cook.url}/factory?repo=${repo}`);
        await page.setViewportSize({ width: 1280, height: 900 });
        await page.screenshot({ path: `${process.env.COOK_TEST_SCREENSHOTS}/factory-1280.png`, fullPage: true });
      }
    } finally {
      await context.close();
    }
  });
});
