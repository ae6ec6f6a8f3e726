import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { launchBrowser } from "../helpers/browser.js";
import { startCook, type RunningCook } from "../helpers/cook.js";

describe("Events page", () => {
  let cook: RunningCook;
  let browser: Browser;
  let page: Page;

  before(async () => {
    [cook, browser] = await Promise.all([startCook(), launchBrowser()]);
    page = await browser.newPage();
  });
  after(async () => {
    await browser?.close();
    await cook?.stop();
  });

  it("shows an event published after the page was opened, without a reload", async () => {
    await page.goto(`${cook.url}/events`);
    await page.waitForSelector("#event-rows[sse-connect]", { state: "attached" });
    // Resolved by the page itself: if htmx or the SSE extension failed to load, nothing would arrive.
    await page.waitForFunction(() => Boolean((globalThis as { htmx?: unknown }).htmx));
    await page.evaluate(() => ((globalThis as { openedOnce?: boolean }).openedOnce = true));

    const published = await cook.cli(["events", "publish", "shop", "deployed", "--branch", "fix/login", "--data", '{"version":"1.4.2"}', "--json"]);
    assert.equal(published.code, 0, published.stderr);
    const event = JSON.parse(published.stdout) as { id: number };

    const row = page.locator(`#event-${event.id}`);
    await row.waitFor({ timeout: 10_000 });
    assert.equal(await row.locator(".type").textContent(), "custom.deployed");
    assert.match((await row.textContent()) ?? "", /fix\/login/);
    assert.match((await row.locator(".subject").textContent()) ?? "", /^cook\.custom\.shop\.deployed$/);
    assert.equal(await page.evaluate(() => (globalThis as { openedOnce?: boolean }).openedOnce), true, "the page was not reloaded");
  });

  it("lists earlier events newest first when the page opens", async () => {
    await cook.cli(["events", "publish", "shop", "first"]);
    await cook.cli(["events", "publish", "shop", "second"]);
    await page.goto(`${cook.url}/events`);
    const types = await page.locator("#event-rows .type").allTextContents();
    assert.deepEqual(types.slice(0, 2), ["custom.second", "custom.first"]);
  });

  it("filters by subject, keeps the filter in the URL, and streams only matching events", async () => {
    await page.goto(`${cook.url}/events`);
    await page.fill("#subject", "cook.custom.warehouse.>");
    await page.click("form.filter button[type=submit]");
    await page.waitForURL(/subject=cook\.custom\.warehouse\.%3E/);
    await page.waitForSelector("#event-rows[sse-connect*='warehouse']", { state: "attached" });
    assert.equal(await page.locator("#event-rows .event").count(), 0);

    await cook.cli(["events", "publish", "shop", "ignored"]);
    const wanted = JSON.parse((await cook.cli(["events", "publish", "warehouse", "restocked", "--json"])).stdout) as { id: number };
    await page.locator(`#event-${wanted.id}`).waitFor({ timeout: 10_000 });
    assert.deepEqual(await page.locator("#event-rows .type").allTextContents(), ["custom.restocked"]);
  });

  it("shows markup in event data as text and never runs it", async () => {
    await page.goto(`${cook.url}/events`);
    await page.waitForFunction(() => Boolean((globalThis as { htmx?: unknown }).htmx));
    const payload = '<img src=x onerror="document.title=\'pwned\'"><script>document.title="pwned"</script>';
    // A branch name may hold markup too: git refuses spaces in one, not `<`, `>`, `=` or quotes.
    const branchPayload = "<img/src=x/onerror=document.title='pwned'>";
    const published = await cook.cli(["events", "publish", "shop", "xss", "--branch", branchPayload, "--data", JSON.stringify({ note: payload }), "--json"]);
    assert.equal(published.code, 0, published.stderr);
    const event = JSON.parse(published.stdout) as { id: number };
    const row = page.locator(`#event-${event.id}`);
    await row.waitFor({ timeout: 10_000 });
    await row.locator("summary").click();
    assert.match((await row.textContent()) ?? "", /<script>document\.title/);
    assert.match((await row.textContent()) ?? "", /<img\/src=x\/onerror/);
    assert.equal(await page.locator("#event-rows img").count(), 0);
    assert.notEqual(await page.title(), "pwned");
  });
});
