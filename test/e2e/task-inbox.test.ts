import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { launchBrowser } from "../helpers/browser.js";
import { startCook, type RunningCook } from "../helpers/cook.js";

describe("task inbox", () => {
  let cook: RunningCook;
  let browser: Browser;
  let page: Page;

  before(async () => {
    [cook, browser] = await Promise.all([startCook(), launchBrowser()]);
    for (const repo of ["shop", "blog"]) assert.equal((await cook.cli(["repo", "add", repo])).code, 0);
    await cook.cli(["task", "create", "shop", "--title=Checkout button broken", "--priority=0"]);
    await cook.cli(["task", "create", "shop", "--title=Refactor cart", "--priority=3", "--depends-on=checkout-button-broken"]);
    await cook.cli(["task", "create", "blog", "--title=Write launch post", "--priority=2"]);
    page = await browser.newPage();
  });
  after(async () => {
    await browser?.close();
    await cook?.stop();
  });

  const titles = () => page.locator("#task-list tr.task td:nth-child(2) a").allTextContents();
  const waitForHtmx = () => page.waitForFunction(() => Boolean((globalThis as { htmx?: unknown }).htmx));

  it("lists tasks by priority with counts per status and who blocks whom", async () => {
    await page.goto(`${cook.url}/tasks`);
    assert.deepEqual(await titles(), ["Checkout button broken", "Write launch post", "Refactor cart"]);
    assert.equal(await page.locator("#task-list [data-status=open]").textContent(), "3");
    assert.equal(await page.locator("#task-refactor-cart td:nth-child(5)").textContent(), "checkout-button-broken");
  });

  it("filters without a full reload and keeps the filter in the URL", async () => {
    await page.goto(`${cook.url}/tasks`);
    await waitForHtmx();
    await page.evaluate(() => ((globalThis as { marker?: number }).marker = 1));
    await page.selectOption("select[name=repo]", "shop");
    await page.waitForURL(/\/tasks\?.*repo=shop/);
    await page.waitForFunction(() => (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }).document.querySelectorAll("#task-list tr.task").length === 2);
    assert.deepEqual(await titles(), ["Checkout button broken", "Refactor cart"]);
    await page.check("input[name=ready]");
    await page.waitForURL(/ready=true/);
    await page.waitForFunction(() => (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }).document.querySelectorAll("#task-list tr.task").length === 1);
    assert.deepEqual(await titles(), ["Checkout button broken"]);
    assert.equal(await page.evaluate(() => (globalThis as { marker?: number }).marker), 1, "no full reload");

    await page.goto(page.url());
    assert.deepEqual(await titles(), ["Checkout button broken"], "the bookmarked URL shows the same filter");
    assert.equal(await page.inputValue("select[name=repo]"), "shop");
  });

  it("creates a task from the form and shows its page with sanitized markdown", async () => {
    await page.goto(`${cook.url}/tasks/new`);
    await page.fill("#title", "Add <b>gift</b> cards");
    await page.selectOption("#repo", "shop");
    await page.selectOption("#priority", "1");
    await page.fill("#depends_on", "checkout-button-broken");
    await page.fill("#body", "Support **gift cards**.\n\n<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">");
    await page.click("button[type=submit]");
    await page.waitForURL(`${cook.url}/tasks/add-b-gift-b-cards`);
    assert.equal(await page.locator("h1").textContent(), "Add <b>gift</b> cards");
    assert.equal(await page.locator(".task-body strong").textContent(), "gift cards");
    assert.equal(await page.locator(".task-body script, .task-body [onerror]").count(), 0);
    assert.notEqual(await page.title(), "pwned");
    assert.equal(await page.locator("ul.deps a").textContent(), "Checkout button broken");
    assert.match((await page.locator(".readiness").textContent()) ?? "", /Blocked by checkout-button-broken/);
  });

  it("keeps what was typed when the form is refused, with the reason", async () => {
    await page.goto(`${cook.url}/tasks/new`);
    await page.fill("#title", "Cyclic");
    await page.fill("#depends_on", "no-such-task");
    await page.fill("#body", "typed text that must not be lost");
    await page.click("button[type=submit]");
    assert.equal(await page.locator(".form-error").textContent(), "depends_on names unknown task: no-such-task");
    assert.equal(await page.inputValue("#body"), "typed text that must not be lost");
    assert.equal(await page.inputValue("#title"), "Cyclic");
  });

  it("edits a task and closes and reopens it", async () => {
    await page.goto(`${cook.url}/tasks/refactor-cart`);
    await page.click("a:text-is('Edit')");
    await page.waitForURL(`${cook.url}/tasks/refactor-cart/edit`);
    await page.fill("#title", "Refactor the cart");
    await page.selectOption("#priority", "0");
    await page.click("button[type=submit]");
    await page.waitForURL(`${cook.url}/tasks/refactor-cart`);
    assert.equal(await page.locator("h1").textContent(), "Refactor the cart");
    assert.match((await page.locator(".facts").textContent()) ?? "", /0 \(critical\)/);

    await page.click("button[name=close]");
    await page.waitForSelector("button[name=reopen]");
    assert.equal(await page.locator(".facts .pill").first().textContent(), "closed (done)");
    await page.click("button[name=reopen]");
    await page.waitForSelector("button[name=close]");
    assert.equal(await page.locator(".facts .pill").first().textContent(), "open");
  });

  it("shows a task created elsewhere without a reload", async () => {
    await page.goto(`${cook.url}/tasks?repo=blog`);
    await waitForHtmx();
    await page.evaluate(() => ((globalThis as { marker?: number }).marker = 2));
    await cook.cli(["task", "create", "blog", "--title=Announce on social", "--priority=0"]);
    await page.locator("#task-announce-on-social").waitFor({ timeout: 10_000 });
    assert.deepEqual(await titles(), ["Announce on social", "Write launch post"]);
    assert.equal(await page.evaluate(() => (globalThis as { marker?: number }).marker), 2);

    await cook.cli(["task", "close", "write-launch-post"]);
    await page.locator("#task-write-launch-post .pill:text-is('closed (done)')").waitFor({ timeout: 10_000 });
  });

  it("closes a task as won't fix from its page, and what depends on it stays blocked, saying who decides", async () => {
    await page.goto(`${cook.url}/tasks/checkout-button-broken`);
    await page.click("button:text-is(\"Close as won't fix\")");
    await page.waitForSelector("button[name=reopen]");
    assert.equal(await page.locator(".facts .pill").first().textContent(), "closed (won't fix)");
    assert.equal(await page.locator("button[name=close], button[name=close-wontfix]").count(), 0);

    await page.goto(`${cook.url}/tasks/refactor-cart`);
    assert.equal(await page.locator("ul.deps .pill").textContent(), "closed (won't fix)");
    assert.equal(
      await page.locator(".readiness").textContent(),
      "Blocked by checkout-button-broken. checkout-button-broken was closed as won't fix: a person decides what becomes of this task — reopen it, drop the dependency, or close this task too.",
    );
    await page.goto(`${cook.url}/tasks?repo=shop`);
    assert.equal(await page.locator("#task-checkout-button-broken .task-status").textContent(), "closed (won't fix)");
    assert.equal(await page.locator("#task-refactor-cart td:nth-child(5)").textContent(), "checkout-button-broken");
    const shown = JSON.parse((await cook.cli(["task", "show", "checkout-button-broken", "--json"])).stdout) as { task: { resolution: string } };
    assert.equal(shown.task.resolution, "wontfix");
  });

  it("pages a long inbox 100 tasks at a time", async () => {
    assert.equal((await cook.cli(["repo", "add", "bulk"])).code, 0);
    const dir = mkdtempSync(join(tmpdir(), "cook-bulk-"));
    for (let i = 0; i < 105; i++) {
      writeFileSync(join(dir, `b-${i}.md`), `---\nid: bulk-${String(i).padStart(3, "0")}\ntitle: Bulk ${i}\nrepo: bulk\npriority: ${i < 100 ? 1 : 4}\n---\n`);
    }
    assert.equal((await cook.cli(["task", "import", dir])).stdout, "imported 105 tasks\n");
    await page.goto(`${cook.url}/tasks?repo=bulk`);
    assert.equal(await page.locator("#task-list tr.task").count(), 100);
    assert.equal(await page.locator("#task-list [data-status=open]").textContent(), "105");
    await page.click("a[rel=next]");
    await page.waitForURL(/page=1/);
    await page.waitForFunction(() => (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }).document.querySelectorAll("#task-list tr.task").length === 5);
    assert.deepEqual((await titles()).slice(0, 2), ["Bulk 100", "Bulk 101"]);
    assert.equal(await page.locator("a[rel=next]").count(), 0);
  });

  it("keeps the chosen filter when a task made elsewhere reloads the list", async () => {
    await page.goto(`${cook.url}/tasks`);
    await waitForHtmx();
    await page.selectOption("select[name=repo]", "blog");
    await page.waitForURL(/repo=blog/);
    await page.locator("#task-list tr.task td:nth-child(3):text-is('shop')").waitFor({ state: "detached" });
    assert.equal((await cook.cli(["task", "create", "shop", "--title=Only in the shop"])).code, 0);
    assert.equal((await cook.cli(["task", "create", "blog", "--title=Later on the blog"])).code, 0);
    await page.locator("#task-later-on-the-blog").waitFor({ timeout: 10_000 });
    assert.deepEqual(await page.locator("#task-list tr.task td:nth-child(3)").evaluateAll((cells) => [...new Set(cells.map((cell) => cell.textContent))]), ["blog"]);
    assert.equal(await page.locator("#task-only-in-the-shop").count(), 0);
  });

  it("refuses a form posted from another site", async () => {
    const response = await fetch(`${cook.url}/tasks`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: "http://evil.example", "Sec-Fetch-Site": "cross-site" },
      body: "title=csrf&repo=shop&priority=2",
    });
    assert.equal(response.status, 403);
    assert.deepEqual(JSON.parse((await cook.cli(["task", "list", "--json"])).stdout).filter((t: { title: string }) => t.title === "csrf"), []);
  });
});
