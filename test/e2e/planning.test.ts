import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { launchBrowser } from "../helpers/browser.js";
import { commandAgentsConfig } from "../helpers/command-agents.js";
import { startCook, type RunningCook } from "../helpers/cook.js";
import { seedRepo } from "../helpers/gates.js";

// The planner takes a moment, so the review page is seen waiting and then filling in live.
const planner = `#!/bin/sh
sleep 2
cat <<'PLAN'
\`\`\`cook-plan
{"tasks": [
 {"id": "sketch-page", "title": "Sketch the <b>page</b>", "body": "Draw it.\\n\\nAcceptance criteria:\\n- a sketch", "priority": 1},
 {"id": "build-page", "title": "Build the page", "body": "Build it.", "depends_on": ["sketch-page"]},
 {"id": "announce-page", "title": "Announce the page", "depends_on": ["build-page"], "stage": 2}
]}
\`\`\`
PLAN
`;

describe("Planning in the browser", () => {
  let cook: RunningCook;
  let browser: Browser;
  let page: Page;

  before(async () => {
    [cook, browser] = await Promise.all([startCook({ config: commandAgentsConfig({ planner }, '[defaults]\nagent = "planner"\n') }), launchBrowser()]);
    await seedRepo(cook, "site", { "README.md": "# site\n" });
    page = await browser.newPage();
  });
  after(async () => {
    await browser?.close();
    await cook?.stop();
  });

  it("plans from the repo's task list, shows the drafts live, refuses a selection that leaves a dependency out, and accepts the rest", async () => {
    await page.goto(`${cook.url}/tasks?repo=site`);
    await page.click("details.plan-box summary");
    await page.fill("#plan-goal", "A landing page");
    await page.click("form.plan-form button[type=submit]");
    await page.waitForURL(/\/plans\/pln_\w+$/);
    assert.equal(await page.locator("#plan .plan-state").textContent(), "planning");
    await page.locator("#plan li.draft").first().waitFor({ timeout: 30_000 });
    assert.equal(await page.locator("#plan .plan-state").textContent(), "drafted");
    assert.equal(await page.locator("#draft-sketch-page strong").textContent(), "Sketch the <b>page</b>", "a title is text, never markup");
    assert.equal(await page.locator("#plan strong b").count(), 0);
    assert.equal(await page.locator("#plan input[name=tasks]:checked").count(), 3);

    await page.uncheck("#draft-build-page input[name=tasks]");
    await page.click("#plan button:text-is('Accept the checked drafts')");
    assert.equal(await page.locator("#plan .form-error").textContent(), "'announce-page' depends on 'build-page' of the plan: accept it too, or leave 'announce-page' out");
    assert.equal(await page.locator("#draft-build-page input[name=tasks]").isChecked(), false, "the selection is kept");

    await page.uncheck("#draft-announce-page input[name=tasks]");
    await page.click("#plan button:text-is('Accept the checked drafts')");
    await page.waitForURL(/\/tasks\?repo=site$/);
    assert.deepEqual(await page.locator("#task-list tr.task td:nth-child(2) a").allTextContents(), ["Sketch the <b>page</b>"]);
  });

  it("fits a phone's width: the task list with the Plan form, and the review page", async () => {
    const plans = ((await (await fetch(`${cook.url}/api/repos/site/plans`)).json()) as { plans: Array<{ id: string }> }).plans;
    const phone = await browser.newPage({ viewport: { width: 375, height: 740 }, isMobile: true });
    for (const path of ["/tasks?repo=site", `/plans/${plans[0]!.id}`]) {
      await phone.goto(`${cook.url}${path}`);
      await phone.evaluate(() => (globalThis as unknown as { document: { querySelectorAll(s: string): Array<{ open: boolean }> } }).document.querySelectorAll("details").forEach((d) => (d.open = true)));
      const width = await phone.evaluate(() => (globalThis as unknown as { document: { scrollingElement: { scrollWidth: number } } }).document.scrollingElement.scrollWidth);
      assert.ok(width <= 375, `${path} is ${width} px wide`);
    }
    await phone.close();
  });
});
