import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { launchBrowser } from "../helpers/browser.js";
import { startCook, type RunningCook } from "../helpers/cook.js";
import { gitOk, makeWorkRepo } from "../helpers/git.js";

interface Created {
  branch: { id: string; name: string };
  environment?: { path: string; state: string };
}

// Names git accepts (no space, no `~^:?*[\`), each a working attack if a page forgot to escape it.
const xssBranch = `xss/"><svg/onload=alert(1)>`;
const xssFile = "<img src=x onerror=alert(2)>.txt";
const xssUntracked = "<img src=x onerror=alert(3)>.txt";

describe("Branches in the browser", () => {
  let cook: RunningCook;
  let browser: Browser;
  let page: Page;
  let seed: string;
  const dialogs: string[] = [];

  before(async () => {
    seed = await makeWorkRepo([{ "README.md": "# shop\n", "src/cart.ts": "export const items = [];\n" }]);
    const slowSetup = await makeWorkRepo([{ "cook.toml": '[environment]\nsetup = "echo step one; sleep 2; echo step two"\n' }]);
    [cook, browser] = await Promise.all([startCook(), launchBrowser()]);
    for (const args of [
      ["repo", "add", "shop", `--clone=${seed}`],
      ["repo", "add", "blog", `--clone=${slowSetup}`],
      ["task", "create", "shop", "--title=Fix the cart", "--id=fix-cart"],
      ["task", "create", "shop", "--title=Speed up search", "--id=speed-up-search"],
    ]) {
      const result = await cook.cli(args);
      assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
    }
    page = await browser.newPage();
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
  });
  after(async () => {
    await browser?.close();
    await cook?.stop();
  });

  const create = async (args: string[]): Promise<Created> => {
    const result = await cook.cli(["branch", "create", ...args, "--json"]);
    assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
    return JSON.parse(result.stdout) as Created;
  };
  const inBranch = async (branch: string, script: string) => {
    const result = await cook.cli(["branch", "exec", branch, "--", "sh", "-c", script]);
    assert.equal(result.code, 0, result.stderr);
  };
  const waitForHtmx = () => page.waitForFunction(() => Boolean((globalThis as { htmx?: unknown }).htmx));
  const rowNames = () => page.locator("#branch-list tr.branch td.name a").allTextContents();
  const rowCount = (n: number) => page.waitForFunction((count) => (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }).document.querySelectorAll("#branch-list tr.branch").length === count, n);
  const mark = (value: number) => page.evaluate((v) => ((globalThis as { marker?: number }).marker = v), value);
  const marker = () => page.evaluate(() => (globalThis as { marker?: number }).marker);
  /** Nothing a name could have injected: the pages here have no images or SVG of their own. */
  const assertNoInjectedMarkup = async (where: string) => assert.equal(await page.locator("main svg, main img").count(), 0, where);

  it("filters the dashboard by repo, status and task without a reload, and shows a new branch as it is made", async () => {
    await create(["shop", "alpha", "--env=none", "--task=fix-cart"]);
    await create(["blog", "beta", "--env=none"]);
    await create(["shop", "gamma", "--env=none"]);
    assert.equal((await cook.cli(["branch", "abandon", "shop/gamma"])).code, 0);

    await page.goto(`${cook.url}/branches`);
    await waitForHtmx();
    await mark(1);
    assert.deepEqual((await rowNames()).sort(), ["alpha", "beta", "gamma"]);
    await page.selectOption("select[name=repo]", "shop");
    await page.waitForURL(/\/branches\?.*repo=shop/);
    await rowCount(2);
    await page.selectOption("select[name=status]", "open");
    await page.waitForURL(/status=open/);
    await rowCount(1);
    assert.deepEqual(await rowNames(), ["alpha"]);
    assert.equal(await page.locator("#branch-list tr.branch td.task a").textContent(), "Fix the cart");
    // Counted in the background if not known yet: the list asks again until it is.
    await page.locator("#branch-list tr.branch td.ahead-behind", { hasText: "+0 −0" }).waitFor({ timeout: 10_000 });
    await page.selectOption("select[name=status]", "");
    await page.fill("input[name=task]", "fix-cart");
    await page.press("input[name=task]", "Enter");
    await page.waitForURL(/task=fix-cart/);
    await rowCount(1);
    assert.equal(await marker(), 1, "no full reload");

    await page.fill("input[name=task]", "");
    await page.press("input[name=task]", "Enter");
    await rowCount(2);
    await create(["shop", "delta", "--env=none"]);
    await page.locator("#branch-list tr.branch td.name a:text-is('delta')").waitFor({ timeout: 10_000 });
    assert.deepEqual(await rowNames(), ["delta", "gamma", "alpha"], "newest activity first, still only shop's");
    assert.equal(await marker(), 1, "it arrived without a reload");
  });

  it("shows the chosen filter's rows when a live reload of the old filter answers after the filter was chosen", async () => {
    await page.goto(`${cook.url}/branches`);
    await waitForHtmx();
    // The live reload of the unfiltered list is held until the filter has been chosen; the filter's
    // answer is held until the reload has answered, the order that once left the old rows shown.
    let reloadStarted!: () => void;
    const reloading = new Promise<void>((resolve) => (reloadStarted = resolve));
    let releaseReload!: () => void;
    const reloadReleased = new Promise<void>((resolve) => (releaseReload = resolve));
    let reloadAnswered!: () => void;
    const reloadDone = new Promise<void>((resolve) => (reloadAnswered = resolve));
    const listRequests = (url: URL) => url.pathname === "/branches";
    await page.route(
      listRequests,
      async (route) => {
        if (route.request().headers()["hx-request"] !== "true") return route.continue();
        if (new URL(route.request().url()).search === "") {
          reloadStarted();
          await reloadReleased;
          await route.continue();
          reloadAnswered();
        } else {
          await reloadDone;
          await new Promise((resolve) => setTimeout(resolve, 300));
          await route.continue();
        }
      },
    );
    try {
      await create(["blog", "zeta", "--env=none"]);
      await reloading;
      await page.selectOption("select[name=repo]", "shop");
      await new Promise((resolve) => setTimeout(resolve, 200));
      releaseReload();
      await page.waitForURL(/repo=shop/);
      await page.waitForFunction(() => {
        const rows = (globalThis as unknown as { document: { querySelectorAll(s: string): Array<{ dataset: { repo?: string } }> } }).document.querySelectorAll("#branch-list tr.branch");
        return rows.length === 3 && Array.from(rows).every((row) => row.dataset.repo === "shop");
      }, undefined, { timeout: 10_000 });
      assert.deepEqual((await rowNames()).sort(), ["alpha", "delta", "gamma"]);
    } finally {
      await page.unroute(listRequests);
    }
  });

  it("shows an environment's state live and its disk use once measured", async () => {
    await page.goto(`${cook.url}/branches?repo=blog`);
    await waitForHtmx();
    const created = await cook.cli(["branch", "create", "blog", "epsilon", "--env=local", "--no-wait", "--json"]);
    assert.equal(created.code, 0, created.stderr);
    const { branch } = JSON.parse(created.stdout) as Created;
    const row = page.locator(`#branch-${branch.id}`);
    await row.locator(".pill.env-creating, .pill.env-ready").waitFor({ timeout: 10_000 });
    await row.locator(".pill.env-ready").waitFor({ timeout: 15_000 });
    await page.waitForFunction((id) => /\d (KiB|MiB)$/.test((globalThis as unknown as { document: { getElementById(i: string): { textContent: string } | null } }).document.getElementById(`disk-${id}`)?.textContent ?? ""), branch.id, { timeout: 15_000 });
  });

  it("shows a branch's committed diff, its uncommitted and untracked work, and its setup log", async () => {
    const { environment } = await create(["shop", "feature/page", "--env=local", "--task=speed-up-search"]);
    const checkout = environment!.path;
    await inBranch("shop/feature/page", "printf 'export function search() {}\\n' > src/search.ts && git add src/search.ts && git commit --quiet -m 'Add search' && git push --quiet");
    writeFileSync(join(checkout, "README.md"), "# shop\nstaged line\n");
    await gitOk(["add", "README.md"], { cwd: checkout });
    writeFileSync(join(checkout, "src/cart.ts"), "export const items = [];\nexport const unstaged = true;\n");
    writeFileSync(join(checkout, "scratch.txt"), "an untracked note\n");

    await page.goto(`${cook.url}/branches/shop/feature/page`);
    assert.equal(await page.locator("h1").textContent(), "feature/page");
    assert.match((await page.locator(".facts").textContent()) ?? "", /1 ahead, 0 behind main/);
    assert.equal(await page.locator(".facts a[href='/tasks/speed-up-search']").textContent(), "Speed up search");
    assert.equal(await page.locator(".commit-list a").textContent(), "Add search");
    assert.equal(await page.locator(".diff-file h3").textContent(), "added src/search.ts");
    assert.equal(await page.locator(".diff-file tr.add td.src").textContent(), "export function search() {}");

    await page.click("nav.tabs a:text-is('Uncommitted')");
    await page.waitForURL(/tab=work/);
    const sectionAfter = (heading: string) => page.locator(`h2#${heading} + section.diff-file`);
    assert.equal(await sectionAfter("staged").locator("h3").textContent(), "modified README.md");
    assert.equal(await sectionAfter("staged").locator("tr.add td.src").textContent(), "staged line");
    assert.equal(await sectionAfter("unstaged").locator("h3").textContent(), "modified src/cart.ts");
    assert.equal(await sectionAfter("unstaged").locator("tr.add td.src").textContent(), "export const unstaged = true;");
    assert.equal(await page.locator("section.untracked h3").textContent(), "added scratch.txt");
    assert.equal(await page.locator("section.untracked tr.add td.src").textContent(), "an untracked note");

    writeFileSync(join(checkout, "later.txt"), "written after the page opened\n");
    await waitForHtmx();
    const refreshed = page.waitForResponse((response) => response.url().endsWith("?tab=work") && response.request().headers()["hx-target"] === "branch-panel");
    await page.click("button:text-is('Refresh')");
    assert.equal((await refreshed).status(), 200);
    await page.locator("section.untracked h3", { hasText: /^added later\.txt$/ }).waitFor({ timeout: 10_000 });

    await page.click("nav.tabs a:text-is('Terminal')");
    await page.waitForURL(/tab=terminal/);
    assert.equal(await page.locator("nav.tabs a[aria-current=page]").textContent(), "Terminal");
    await page.click("nav.tabs a:text-is('Setup log')");
    assert.match((await page.locator(".branch-panel").textContent()) ?? "", /No setup script in cook.toml/);
  });

  it("appends setup output to the log as the setup script writes it, and shows the environment ready", async () => {
    const created = await cook.cli(["branch", "create", "blog", "slow-setup", "--env=local", "--no-wait", "--json"]);
    assert.equal(created.code, 0, created.stderr);
    await page.goto(`${cook.url}/branches/blog/slow-setup?tab=setup`);
    await waitForHtmx();
    await mark(2);
    // The log's first line is the command, which names "step two" too: wait for its output line.
    await page.waitForFunction(() => /\nstep two\n/.test((globalThis as unknown as { document: { getElementById(i: string): { textContent: string } | null } }).document.getElementById("setup-log")?.textContent ?? ""), undefined, { timeout: 15_000 });
    assert.match((await page.locator("#setup-log").textContent()) ?? "", /^\$ echo step one; sleep 2; echo step two\nstep one\n(.|\n)*step two\n/);
    await page.locator(".facts .pill.env-ready").waitFor({ timeout: 10_000 });
    assert.equal(await marker(), 2, "no reload");
  });

  it("starts work from a task page: a branch named after the task, listed on the task", async () => {
    await page.goto(`${cook.url}/tasks/fix-cart`);
    await page.click("button[name=start]");
    await page.waitForURL(`${cook.url}/branches/shop/fix-cart`);
    assert.equal(await page.locator("h1").textContent(), "fix-cart");
    assert.equal(await page.locator(".facts .pill.env-ready").textContent(), "ready");
    await page.goto(`${cook.url}/tasks/fix-cart`);
    assert.deepEqual(await page.locator(".task-branches a").allTextContents(), ["fix-cart", "alpha"]);
    assert.equal(await page.locator(".facts .pill").first().textContent(), "in progress");
  });

  it("creates a branch from the New branch form, and keeps the form filled in when it is refused", async () => {
    await page.goto(`${cook.url}/branches`);
    await page.click("a:text-is('New branch')");
    await page.waitForURL(`${cook.url}/branches/new`);
    await page.selectOption("#repo", "shop");
    await page.fill("#name", "from..form");
    await page.fill("#task", "speed-up-search");
    await page.selectOption("#env", "none");
    await page.click("button[type=submit]");
    assert.match((await page.locator(".form-error").textContent()) ?? "", /^'from\.\.form' is not a valid branch name/);
    assert.equal(await page.inputValue("#name"), "from..form");
    assert.equal(await page.inputValue("#task"), "speed-up-search");
    assert.equal(await page.inputValue("#env"), "none");

    await page.fill("#name", "from-form");
    await page.click("button[type=submit]");
    await page.waitForURL(`${cook.url}/branches/shop/from-form`);
    assert.equal(await page.locator("h1").textContent(), "from-form");
    assert.match((await page.locator(".facts").textContent()) ?? "", /Speed up search/);
  });

  it("creates repos from the New repo form: an empty one, and one imported from a path on the server", async () => {
    await page.goto(`${cook.url}/repos`);
    await page.click("a:text-is('New repo')");
    await page.fill("#name", "fresh");
    await page.fill("#default_branch", "trunk");
    await page.click("button[type=submit]");
    await page.waitForURL(`${cook.url}/repos/fresh`);
    assert.match((await page.locator("main").textContent()) ?? "", /trunk/);

    await page.goto(`${cook.url}/repos/new`);
    await page.fill("#name", "copied");
    await page.fill("#source", seed);
    await page.click("button[type=submit]");
    await page.waitForURL(`${cook.url}/repos/copied`);
    assert.match((await page.locator("main").textContent()) ?? "", /README\.md/);

    await page.goto(`${cook.url}/repos/new`);
    await page.fill("#name", "copied");
    await page.click("button[type=submit]");
    assert.equal(await page.locator(".form-error").textContent(), "repo 'copied' already exists");
    assert.equal(await page.inputValue("#name"), "copied");
  });

  it("abandons a branch after a confirm step, tearing its environment down", async () => {
    await create(["shop", "doomed", "--env=local"]);
    await page.goto(`${cook.url}/branches/shop/doomed`);
    assert.equal(await page.locator("button[name=abandon]").isVisible(), false, "the button waits behind the confirm step");
    await page.click("summary:text-is('Abandon…')");
    await page.click("button[name=abandon]");
    await page.waitForURL(/\/branches\/brn_[0-9a-z]+$/);
    assert.equal(await page.locator(".facts .pill.status-abandoned").textContent(), "abandoned");
    assert.equal(await page.locator(".facts .pill.env-torn_down").textContent(), "torn down");
    assert.equal(await page.locator("summary:text-is('Abandon…')").count(), 0);
  });

  it("shows branch names and file names as text, never as markup, on every page that has them", async () => {
    const { branch, environment } = await create(["shop", xssBranch, "--env=local", "--task=speed-up-search"]);
    const checkout = environment!.path;
    writeFileSync(join(checkout, xssFile), "committed\n");
    await inBranch(branch.id, `git add . && git commit --quiet -m 'Add a file' && git push --quiet origin HEAD`);
    writeFileSync(join(checkout, xssUntracked), "untracked\n");

    await page.goto(`${cook.url}/branches?repo=shop`);
    await page.locator(`#branch-${branch.id} td.name a`).waitFor();
    assert.equal(await page.locator(`#branch-${branch.id} td.name a`).textContent(), xssBranch);
    await assertNoInjectedMarkup("dashboard");
    await page.click(`#branch-${branch.id} td.name a`);
    await page.waitForURL(/\/branches\/shop\/xss\//);
    assert.equal(await page.locator("h1").textContent(), xssBranch);
    assert.equal(await page.locator(".diff-file h3").textContent(), `added ${xssFile}`);
    await assertNoInjectedMarkup("branch page");
    await page.click("nav.tabs a:text-is('Uncommitted')");
    await page.waitForURL(/tab=work/);
    assert.equal(await page.locator("section.untracked h3").textContent(), `added ${xssUntracked}`);
    await assertNoInjectedMarkup("uncommitted work");
    await page.click("nav.tabs a:text-is('Setup log')");
    await page.waitForURL(/tab=setup/);
    await assertNoInjectedMarkup("setup log");
    await page.goto(`${cook.url}/tasks/speed-up-search`);
    assert.ok((await page.locator(".task-branches a").allTextContents()).includes(xssBranch));
    await assertNoInjectedMarkup("task page");
    await page.goto(`${cook.url}/events`);
    await assertNoInjectedMarkup("events page");
    assert.deepEqual(dialogs, [], "no script ran");
  });

  it("starts a sub-task from its page on a branch of its parent's, shown under the parent's on the dashboard", async () => {
    for (const args of [
      ["repo", "add", "tree", `--clone=${seed}`],
      ["task", "create", "tree", "--title=Checkout", "--id=checkout"],
      ["task", "create", "tree", "--title=Cart page", "--id=cart-page", "--parent=checkout"],
      ["task", "create", "tree", "--title=Unrelated", "--id=unrelated"],
      ["branch", "create", "tree", "--task", "unrelated", "--env", "none"],
    ]) {
      const result = await cook.cli(args);
      assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
    }
    await page.goto(`${cook.url}/tasks/checkout`);
    assert.deepEqual(await page.locator(".sub-tasks a").allTextContents(), ["Cart page"]);
    await page.goto(`${cook.url}/tasks/cart-page`);
    assert.equal(await page.locator(".parent-task a").textContent(), "Checkout");
    await page.click("button[name=start]");
    await page.waitForURL(`${cook.url}/branches/tree/cart-page`);
    await page.goto(`${cook.url}/branches?repo=tree`);
    const names = await rowNames();
    assert.equal(names.length, 3);
    assert.equal(names[names.indexOf("checkout") + 1], "cart-page", "the sub-branch sits right under its parent's");
    const sub = page.locator("#branch-list tr.branch", { has: page.locator("td.name a:text-is('cart-page')") });
    assert.equal(await sub.getAttribute("data-into"), "checkout");
    assert.equal(await sub.locator(".merges-into").textContent(), "into checkout");
    const indent = (name: string) => page.locator("#branch-list tr.branch td.name", { has: page.locator(`a:text-is('${name}')`) }).evaluate((cell) => parseFloat((globalThis as unknown as { getComputedStyle(e: unknown): { paddingLeft: string } }).getComputedStyle(cell).paddingLeft));
    assert.ok((await indent("cart-page")) > (await indent("checkout")), "the sub-branch is indented");
    await page.goto(`${cook.url}/tasks/checkout`);
    assert.equal(await page.locator(".facts .pill").first().textContent(), "in progress", "the parent's branch came with its sub-task");
  });
});
