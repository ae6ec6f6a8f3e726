import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { launchBrowser } from "../helpers/browser.js";
import { commandAgentsConfig } from "../helpers/command-agents.js";
import { startCook, type RunningCook } from "../helpers/cook.js";
import { seedRepo } from "../helpers/gates.js";

const worker = `#!/bin/sh
echo done > "done-$COOK_BRANCH.txt"
git add -A && git commit -qm "do $COOK_BRANCH" && git push -q origin HEAD && cook done
`;

describe("Autopilot on the repo page", () => {
  let cook: RunningCook;
  let browser: Browser;
  let page: Page;

  before(async () => {
    [cook, browser] = await Promise.all([startCook({ config: commandAgentsConfig({ worker }) }), launchBrowser()]);
    await seedRepo(cook, "shop", { "cook.toml": '[autopilot]\nenabled = false\nagent = "worker"\n\n[[gates]]\nname = "ci"\ncommand = "true"\n' });
    for (const [id, priority] of [["first-thing", "1"], ["second-thing", "3"]] as const) {
      const result = await cook.cli(["task", "create", "shop", `--title=Do the ${id.replace("-", " ")}`, `--id=${id}`, `--priority=${priority}`]);
      assert.equal(result.code, 0, result.stderr);
    }
    page = await browser.newPage();
  });
  after(async () => {
    await browser?.close();
    await cook?.stop();
  });

  it("shows it off with the queue in order, turns it on with the button, and follows the work live", async () => {
    await page.goto(`${cook.url}/repos/shop`);
    const section = page.locator("#autopilot");
    assert.equal(await section.locator("h2 .pill").textContent(), "off");
    assert.match((await section.locator(".summary").textContent()) ?? "", /From \[autopilot\] in cook\.toml/);
    assert.deepEqual(await section.locator(".autopilot-queue li a").allTextContents(), ["Do the first thing", "Do the second thing"]);
    await page.waitForFunction(() => Boolean((globalThis as { htmx?: unknown }).htmx));
    await page.evaluate(() => ((globalThis as { marker?: number }).marker = 1));

    await section.locator("button:text-is('Turn on')").click();
    await page.waitForURL(/\/repos\/shop#autopilot$/);
    assert.equal(await page.locator("#autopilot h2 .pill").textContent(), "on");
    assert.match((await page.locator("#autopilot .summary").textContent()) ?? "", /Switched on by local/);
    await page.evaluate(() => ((globalThis as { marker?: number }).marker = 2));
    // Both tasks flow to merged while the page watches: the lists empty themselves without a reload.
    await page.locator("#autopilot .autopilot-queue").waitFor({ state: "detached", timeout: 60_000 });
    await page.locator("#autopilot .autopilot-running").waitFor({ state: "detached", timeout: 60_000 });
    assert.equal(await page.evaluate(() => (globalThis as { marker?: number }).marker), 2, "updated live, not reloaded");
    const closed = JSON.parse((await cook.cli(["task", "list", "--repo=shop", "--status=closed", "--json"])).stdout) as Array<{ id: string }>;
    assert.deepEqual(closed.map((t) => t.id).sort(), ["first-thing", "second-thing"]);

    await section.locator("button:text-is('Turn off')").click();
    await page.waitForURL(/\/repos\/shop#autopilot$/);
    assert.equal(await page.locator("#autopilot h2 .pill").textContent(), "off");
  });

  it("refuses the switch to a page of another site, and shows no button to a reader who may not change the repo", async () => {
    const forged = await fetch(`${cook.url}/repos/shop/autopilot`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: "http://evil.example", "Sec-Fetch-Site": "cross-site" },
      body: "enabled=on",
      redirect: "manual",
    });
    assert.equal(forged.status, 403);
    const status = JSON.parse((await cook.cli(["autopilot", "status", "shop", "--json"])).stdout) as { enabled: boolean };
    assert.equal(status.enabled, false);
    const bad = await fetch(`${cook.url}/repos/shop/autopilot`, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: cook.url }, body: "enabled=maybe", redirect: "manual" });
    assert.equal(bad.status, 422);
    // A plain form's answer is a whole page (with the layout), not the section alone.
    assert.match(await bad.text(), /^<!doctype html>[\s\S]*<link rel="stylesheet" href="\/public\/css\/cook.css">[\s\S]*enabled is true or false/);
    const continuedTwice = await fetch(`${cook.url}/repos/shop/stages/nope/continue`, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: cook.url }, body: "", redirect: "manual" });
    assert.equal(continuedTwice.status, 404);
    assert.match(await continuedTwice.text(), /^<!doctype html>[\s\S]*no stage/);
    const token = await cook.cli(["token", "create", "--scope", "agent:shop/some-branch"]);
    assert.equal(token.code, 0, token.stderr);
    const asAgent = await fetch(`${cook.url}/repos/shop`, { headers: { Authorization: `Bearer ${token.stdout.trim()}` } });
    assert.equal(asAgent.status, 200);
    const html = await asAgent.text();
    assert.match(html, /<section id="autopilot"/);
    assert.doesNotMatch(html, /Turn on|Turn off/);
  });

  it("shows the stages, and continues past an ended one with its button", async () => {
    await seedRepo(cook, "plan", { "cook.toml": '[autopilot]\nagent = "worker"\n\n[[gates]]\nname = "ci"\ncommand = "true"\n' });
    const dir = mkdtempSync(join(tmpdir(), "cook-plan-"));
    writeFileSync(join(dir, "lay.md"), "---\nid: lay-foundation\ntitle: Lay the foundation\nrepo: plan\nstage: 1\n---\n");
    writeFileSync(join(dir, "walls.md"), "---\nid: build-walls\ntitle: Build the walls\nrepo: plan\nstage: 2\n---\n");
    assert.equal((await cook.cli(["task", "import", dir])).code, 0);
    await page.goto(`${cook.url}/repos/plan`);
    const button = page.locator("#autopilot button:text-is('Continue past 1')");
    await button.waitFor({ timeout: 60_000 });
    assert.match((await page.locator("#autopilot li[data-stage='1']").textContent()) ?? "", /waits for you\s+1 merged/);
    assert.match((await page.locator("#autopilot li[data-stage='2'] .pill").textContent()) ?? "", /held/);
    await button.click();
    await page.waitForURL(/\/repos\/plan#autopilot$/);
    assert.match((await page.locator("#autopilot li[data-stage='1']").textContent()) ?? "", /continued by local/);
    await page.locator("#autopilot li[data-stage='2'] .pill:text-is('waits for you')").waitFor({ timeout: 60_000 });
    assert.match((await page.locator("#autopilot li[data-stage='2']").textContent()) ?? "", /1 merged/);
  });

  it("fits a phone's width", async () => {
    const phone = await browser.newPage({ viewport: { width: 375, height: 740 }, isMobile: true });
    for (const repo of ["shop", "plan"]) {
      await phone.goto(`${cook.url}/repos/${repo}`);
      const width = await phone.evaluate(() => (globalThis as unknown as { document: { scrollingElement: { scrollWidth: number } } }).document.scrollingElement.scrollWidth);
      assert.ok(width <= 375, `/repos/${repo} is ${width} px wide`);
    }
    await phone.close();
  });
});
