import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { launchBrowser } from "../helpers/browser.js";
import { startCook, type RunningCook } from "../helpers/cook.js";
import { makeWorkRepo } from "../helpers/git.js";
import { abbreviate, measureOverflow } from "../helpers/page-overflow.js";
import { terminalServerEnv } from "../helpers/terminal-client.js";

// The little of the DOM these page functions need (the test build has no DOM typings).
declare const document: { querySelector(selector: string): { innerText: string } | null };
declare class WebSocket {
  constructor(url: string);
  onopen: (() => void) | null;
  onclose: (() => void) | null;
  close(): void;
}

// The Terminal tab of the branch page (views/branches/_terminal.njk, public/js/terminal.js).
describe("Terminal tab of a branch page", () => {
  let cook: RunningCook;
  let browser: Browser;
  let branchId: string;

  before(async () => {
    [cook, browser] = await Promise.all([startCook({ env: terminalServerEnv() }), launchBrowser()]);
    const seed = await makeWorkRepo([{ "README.md": "# app\n" }]);
    assert.equal((await cook.cli(["repo", "add", "app", `--clone=${seed}`])).code, 0);
    const created = await cook.cli(["branch", "create", "app", "term-e2e", "--env=local", "--json"]);
    assert.equal(created.code, 0, created.stderr);
    branchId = (JSON.parse(created.stdout) as { branch: { id: string } }).branch.id;
  });
  after(async () => {
    await browser?.close();
    await cook?.stop();
  });

  const screenText = (page: Page) => page.evaluate(() => document.querySelector(".xterm-rows")?.innerText ?? "");

  /** Opens the branch page's Terminal tab and waits for the shell's prompt. */
  async function openTerminal(page: Page): Promise<void> {
    await page.goto(`${cook.url}/branches/app/term-e2e`);
    await page.getByText("Terminal", { exact: true }).first().click();
    await page.locator(".xterm").waitFor({ timeout: 10_000 });
    // xterm.js draws only while it is on screen; on a phone the tab sits below the Gates section, as a user would scroll to it.
    await page.locator(".terminal-screen").scrollIntoViewIfNeeded();
    await page.waitForFunction(() => /[#$][\s\u00a0]*$/m.test(document.querySelector(".xterm-rows")?.innerText ?? ""), null, { timeout: 10_000 });
    await page.locator(".xterm").click();
  }

  it("runs what is typed into xterm.js in the environment and shows its output", async () => {
    const page = await browser.newPage();
    await openTerminal(page);
    await page.keyboard.type("echo hi-$COOK_BRANCH\n");
    // The command line shows `$COOK_BRANCH`; only the shell's output has the name.
    await page.waitForFunction(() => /\nhi-term-e2e\n/.test(document.querySelector(".xterm-rows")?.innerText ?? ""), null, { timeout: 10_000 });
    await page.keyboard.type("exit 4\n");
    await page.waitForFunction(() => /exited with code 4/.test(document.querySelector(".xterm-rows")?.innerText ?? ""), null, { timeout: 10_000 });
    assert.match(await screenText(page), /Press Enter for a new shell/);
    await page.close();
  });

  it("fits a phone's width: the terminal's columns follow the screen and the page does not scroll sideways", async () => {
    const page = await browser.newPage({ viewport: { width: 375, height: 740 }, isMobile: true });
    await openTerminal(page);
    await page.keyboard.type("tput cols\n");
    await page.waitForFunction(() => /\n\d+\n/.test(document.querySelector(".xterm-rows")?.innerText ?? ""), null, { timeout: 10_000 });
    const cols = Number(/\n(\d+)\n/.exec(await screenText(page))![1]);
    assert.ok(cols >= 20 && cols <= 60, `${cols} columns at 375 px`);
    const overflow = await measureOverflow(page, 375);
    assert.ok(overflow.scrollWidth <= 375, `the page is ${overflow.scrollWidth} px wide: ${overflow.offenders.map(abbreviate).join("; ")}`);
    await page.close();
  });

  it("gives no shell to a page of another site, whose browser sends the user's credentials along", async () => {
    // The attacker's page: any other origin, here a server of the test's own on another port.
    const evil = createServer((_req, res) => res.end("<!doctype html><title>evil</title>"));
    await new Promise<void>((resolve) => evil.listen(0, "127.0.0.1", resolve));
    const tryOpen = (page: Page, url: string) =>
      page.evaluate((target) => new Promise<string>((resolve) => {
        const socket = new WebSocket(target);
        socket.onopen = () => {
          socket.close();
          resolve("open");
        };
        socket.onclose = () => resolve("refused");
      }), url);
    const terminal = `ws://${new URL(cook.url).host}/api/branches/${branchId}/terminal`;
    const page = await browser.newPage();
    try {
      await page.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}/`);
      assert.equal(await tryOpen(page, terminal), "refused");
      await page.goto(`${cook.url}/branches`);
      assert.equal(await tryOpen(page, terminal), "open", "the factory's own pages are let in");
    } finally {
      await page.close();
      evil.close();
    }
  });
});
