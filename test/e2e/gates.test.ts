import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { launchBrowser } from "../helpers/browser.js";
import { seedAppRepo } from "../helpers/branch-fixture.js";
import { startCook, type RunningCook } from "../helpers/cook.js";
import { gitOk, lsRemote, makeWorkRepo, revParse, tempDir } from "../helpers/git.js";
import { abbreviate, measureOverflow } from "../helpers/page-overflow.js";
import { eventually } from "../helpers/wait.js";

// The `ci` gate prints "start", waits until the test lets it go on (so the page is watched while it
// runs), prints "end", then passes only when the commit has ok.txt; note.txt, when a branch has
// one, is printed too, slow.txt makes it take 4 s more, and wait.txt names another signal to wait for.
const signals = tempDir("cook-gate-signal-");
const go = join(signals, "go");
const cookToml = `[[gates]]
name = "ci"
command = "echo start; cat note.txt 2>/dev/null; if [ -f slow.txt ]; then sleep 4; fi; w=go; if [ -f wait.txt ]; then w=$(cat wait.txt); fi; for i in $(seq 1 600); do [ -f '${signals}'/$w ] && break; sleep 0.05; done; echo end; test -f ok.txt"

[[gates]]
name = "approve"
kind = "human_approval"
`;

// The little of the DOM the page functions below need (the test build has no DOM typings).
interface DomDocument {
  querySelector(selector: string): { textContent: string | null } | null;
}

describe("Gates and merge in the browser", () => {
  let cook: RunningCook;
  let browser: Browser;
  let page: Page;
  let work: string;

  before(async () => {
    [cook, browser] = await Promise.all([startCook(), launchBrowser()]);
    ({ work } = await seedAppRepo(cook, { "README.md": "# app\n", "cook.toml": cookToml }));
    page = await browser.newPage();
  });
  after(async () => {
    await browser?.close();
    await cook?.stop();
  });

  /** Pushes a new branch off main with these files (null: removed), with real git; resolves once Cook tracks it. */
  const pushBranch = async (name: string, files: Record<string, string | null>): Promise<{ id: string; head: string }> => {
    await gitOk(["fetch", "--quiet", "origin"], { cwd: work });
    await gitOk(["checkout", "--quiet", "-B", name, "origin/main"], { cwd: work });
    for (const [path, text] of Object.entries(files)) {
      if (text === null) rmSync(join(work, path), { force: true });
      else writeFileSync(join(work, path), text);
    }
    await gitOk(["add", "--all", "."], { cwd: work });
    await gitOk(["commit", "--quiet", "-m", `work on ${name}`], { cwd: work });
    await gitOk(["push", "--quiet", "origin", name], { cwd: work });
    const head = await revParse(work, "HEAD");
    const id = await eventually(async () => {
      const response = await fetch(`${cook.url}/api/branches/app/${name}`);
      return response.ok ? ((await response.json()) as { branch?: { id: string }; id?: string }) : undefined;
    }, 10_000, `branch ${name} tracked`);
    return { id: id.branch?.id ?? id.id!, head };
  };
  const gateState = (gate: string) => page.locator(`#branch-gates li.gate[data-gate="${gate}"]`).getAttribute("data-state");
  const waitForGate = (gate: string, state: string, timeout = 15_000) => page.locator(`#branch-gates li.gate[data-gate="${gate}"][data-state="${state}"]`).waitFor({ timeout });
  const waitForHtmx = () => page.waitForFunction(() => Boolean((globalThis as { htmx?: unknown }).htmx));
  const mark = () => page.evaluate(() => ((globalThis as { marker?: number }).marker = 1));
  const marked = () => page.evaluate(() => (globalThis as { marker?: number }).marker === 1);
  /** Waits until the log of `gate` in the Gates section matches `pattern`. */
  const waitForLog = (gate: string, pattern: RegExp) =>
    page.waitForFunction(
      ([selector, source]) => new RegExp(source!).test((globalThis as unknown as { document: DomDocument }).document.querySelector(selector!)?.textContent ?? ""),
      [`#branch-gates li.gate[data-gate="${gate}"] pre.gate-log-text`, pattern.source],
      { timeout: 15_000 },
    );
  const mainHead = async () => (await lsRemote(`${cook.url}/app.git`))["refs/heads/main"];

  it("shows a running gate's log as it is written, and its state changes, without a reload", async () => {
    const branch = await pushBranch("feature/live", { "ok.txt": "ok\n" });
    await page.goto(`${cook.url}/branches/app/feature/live`);
    await waitForHtmx();
    await mark();
    const log = page.locator('#branch-gates li.gate[data-gate="ci"] pre.gate-log-text');
    await waitForLog("ci", /start/);
    assert.equal(await gateState("ci"), "running");
    assert.doesNotMatch((await log.textContent()) ?? "", /end/, "the gate waits for the signal");

    writeFileSync(go, "");
    await waitForLog("ci", /start\n(.*\n)*end/);
    await waitForGate("ci", "passed");
    await waitForGate("approve", "waiting");
    assert.equal((await log.textContent())?.match(/start/g)?.length, 1, "no output shown twice");
    assert.match((await page.locator('#branch-gates li.gate[data-gate="ci"] details.attempt summary').textContent()) ?? "", /Attempt 1 · passed · exit 0 · /);
    assert.match((await page.locator("#branch-gates .merge-reason").textContent()) ?? "", new RegExp(`gate 'approve' is waiting on ${branch.head.slice(0, 12)}: waits for approval by any user`));
    assert.equal(await page.locator("#branch-gates button[name=merge]").isDisabled(), true);
    assert.equal(await marked(), true, "it all came without a reload");

    // Lists show it too: the dashboard's gate badge and the home page's list of what waits on a person.
    await page.goto(`${cook.url}/branches`);
    assert.equal(await page.locator(`#branch-${branch.id} td.gates .pill`).textContent(), "waiting for approval");
    await page.goto(`${cook.url}/`);
    assert.match((await page.locator(".waiting-list").textContent()) ?? "", /feature\/live[\s\S]*waiting for approval/);
  });

  it("reads a running gate's log whole when the page missed some of its output", async () => {
    const { id } = await pushBranch("feature/gap", { "ok.txt": "ok\n", "wait.txt": "go-gap\n" });
    // The Gates section is not read again here: what the page shows comes from the log's live messages alone.
    await page.route(`**/branches/${id}*`, (route) => (route.request().headers()["hx-target"] === "branch-gates" ? route.abort() : route.continue()));
    try {
      // The page is read once "start" is stored, so that it has the log to follow.
      await eventually(async () => {
        const { runs } = (await (await fetch(`${cook.url}/api/branches/${id}/gates`)).json()) as { runs: Array<{ id: string }> };
        const log = runs[0] && (await fetch(`${cook.url}/api/gate-runs/${runs[0].id}/log?gate=ci`));
        return log?.ok && /start/.test(await log.text()) ? true : undefined;
      }, 15_000, "ci started");
      await page.goto(`${cook.url}/branches/app/feature/gap`);
      await waitForHtmx();
      await waitForLog("ci", /start/);
      // As if the chunk with "start" had come while the section was being read again: the page lacks it.
      await page.locator('#branch-gates li.gate[data-gate="ci"] pre.gate-log-text').evaluate((pre) => {
        pre.textContent = "";
        (pre as unknown as { dataset: Record<string, string> }).dataset.bytes = "0";
      });
      writeFileSync(join(signals, "go-gap"), "");
      await waitForLog("ci", /^start\nend\n$/);
      assert.equal(await gateState("ci"), "running", "as the page was read: no state change reached it");
    } finally {
      await page.unroute(`**/branches/${id}*`);
    }
  });

  it("approves the head with the page's button, and the run passes", async () => {
    await page.goto(`${cook.url}/branches/app/feature/live`);
    await waitForHtmx();
    await page.fill("#review-comment", "Looks right");
    await page.click(".review-form button[name=approve]");
    await page.waitForURL(/\/branches\/app\/feature\/live$/);
    await waitForGate("approve", "passed");
    assert.equal(await page.locator("#branch-gates .gate-summary").last().textContent(), "approved by local: Looks right");
    await page.locator("#gates-heading .pill.gate-passed").waitFor({ timeout: 10_000 });
    await page.locator("#branch-gates .merge-readiness .ok").waitFor({ timeout: 10_000 });
    assert.equal(await page.locator("#branch-gates button[name=merge]").isDisabled(), false);
  });

  it("merges with the page's button: main moves to the branch's head and the repo page lists the merge", async () => {
    const before = await mainHead();
    const head = await revParse(work, "feature/live");
    await page.goto(`${cook.url}/branches/app/feature/live`);
    await page.click("#branch-gates button[name=merge]");
    await page.waitForURL(/\/branches\/brn_/);
    assert.notEqual(before, head);
    assert.equal(await mainHead(), head, "a fast-forward of main to the branch's head");
    assert.equal(await page.locator("#branch-summary .pill.status-merged").textContent(), "merged");
    assert.match((await page.locator("#branch-gates .merge-list li.merge").first().textContent()) ?? "", /merged[\s\S]*into main/);
    assert.equal(await page.locator("#branch-gates button[name=merge]").count(), 0, "a merged branch has no Merge button");

    await page.goto(`${cook.url}/repos/app`);
    assert.match((await page.locator(".repo-merges ul[aria-label='Last merges'] li.merge").first().textContent()) ?? "", /merged\s+feature\/live\s+into main/);
  });

  it("refuses to merge a branch whose gate failed, and says why on the page", async () => {
    const branch = await pushBranch("feature/broken", { "ok.txt": null, "note.txt": "no ok.txt here\n" });
    await page.goto(`${cook.url}/branches/app/feature/broken`);
    await waitForHtmx();
    await waitForGate("ci", "failed");
    const reason = `gate 'ci' is failed on ${branch.head.slice(0, 12)}: exited with code 1: end`;
    assert.equal(await page.locator("#branch-gates .merge-reason").textContent(), reason);
    assert.equal(await gateState("approve"), "not_run");
    assert.match((await page.locator('#branch-gates li.gate[data-gate="ci"] details.attempt[open] summary').textContent()) ?? "", /Attempt 1 · failed · exit 1/);
    assert.match((await page.locator('#branch-gates li.gate[data-gate="ci"] pre.gate-log-text').textContent()) ?? "", /start\nno ok.txt here\nend\n/);
    const merge = page.locator("#branch-gates button[name=merge]");
    assert.equal(await merge.isDisabled(), true);

    // A page rendered before the gate failed still has the button enabled: the refusal is shown, not a 500.
    const before = await mainHead();
    await merge.evaluate((button) => ((button as unknown as { disabled: boolean }).disabled = false));
    const [response] = await Promise.all([page.waitForResponse((r) => r.url().endsWith(`/branches/${branch.id}/merge`)), merge.click()]);
    assert.equal(response.status(), 409);
    assert.equal(await page.locator("#branch-gates .form-error[role=alert]").textContent(), `cannot merge 'feature/broken': ${reason}`);
    assert.equal(await mainHead(), before, "main did not move");
  });

  it("runs the gates again with the page's button and lists the earlier run", async () => {
    await page.goto(`${cook.url}/branches/app/feature/broken`);
    const first = await page.locator("#branch-gates .run-facts code").first().textContent();
    await page.click("#branch-gates button[name=rerun]");
    await page.waitForURL(/\/branches\/app\/feature\/broken$/);
    await page.locator("#branch-gates .run-list a", { hasText: first! }).waitFor({ timeout: 10_000 });
    await waitForGate("ci", "failed");
    assert.match((await page.locator("#branch-gates .run-facts").textContent()) ?? "", /rerun by local/);
  });

  it("shows the paths of a conflicted merge and leaves main alone", async () => {
    const first = await pushBranch("readme/one", { "ok.txt": "ok\n", "README.md": "# app, the first way\n" });
    const second = await pushBranch("readme/two", { "ok.txt": "ok\n", "README.md": "# app, the second way\n" });
    for (const name of ["readme/one", "readme/two"]) {
      await eventually(async () => (await cook.cli(["branch", "approve", `app/${name}`])).code === 0 || undefined, 15_000, `${name} approved`);
    }
    for (const branch of [first, second]) {
      await eventually(async () => ((await (await fetch(`${cook.url}/api/branches/${branch.id}/gates`)).json()) as { mergeable: boolean }).mergeable || undefined, 15_000, "gates passed");
    }
    const landed = await cook.cli(["branch", "merge", "app/readme/one"]);
    assert.equal(landed.code, 0, landed.stderr);
    const before = await mainHead();

    await page.goto(`${cook.url}/branches/app/readme/two`);
    await page.click("#branch-gates button[name=merge]");
    const alert = page.locator("#branch-gates .form-error[role=alert]");
    assert.equal(await alert.textContent(), "cannot merge 'readme/two': merging into main conflicts in README.md; the target is untouched");
    assert.equal(await page.locator("#branch-gates .merge-list li.merge[data-state=conflicted] ul.conflicts").textContent(), "README.md");
    assert.equal(await mainHead(), before);
  });

  it("merges by itself once the gates pass when auto-merge is on, and the open page follows", async () => {
    await pushBranch("feature/auto", { "ok.txt": "ok\n", "auto.txt": "auto\n" });
    await page.goto(`${cook.url}/branches/app/feature/auto`);
    await waitForGate("approve", "waiting");
    await page.click("#branch-gates button[name=auto-merge]");
    await page.waitForURL(/\/branches\/app\/feature\/auto$/);
    assert.equal(await page.locator("#branch-gates .pill.auto-merge").textContent(), "auto-merge on");
    assert.equal(await page.locator("#branch-gates button[name=auto-merge]").textContent(), "Stop auto-merge");
    await waitForHtmx();
    await mark();

    const approved = await cook.cli(["branch", "approve", "app/feature/auto"]);
    assert.equal(approved.code, 0, approved.stderr);
    await page.locator("#branch-summary .pill.status-merged").waitFor({ timeout: 20_000 });
    await page.locator("#branch-gates .merge-list li.merge[data-state=merged]").waitFor({ timeout: 10_000 });
    assert.equal(await marked(), true, "the page followed without a reload");
    assert.equal(await mainHead(), await revParse(work, "feature/auto"));
  });

  it("follows a merge that gates its candidate first, because main moved since the branch's gates ran", async () => {
    const branches = {
      "feature/slow": await pushBranch("feature/slow", { "ok.txt": "ok\n", "slow.txt": "slow\n" }),
      "feature/quick": await pushBranch("feature/quick", { "ok.txt": "ok\n", "quick.txt": "quick\n" }),
    };
    for (const [name, { id }] of Object.entries(branches)) {
      await eventually(async () => (await cook.cli(["branch", "approve", `app/${name}`])).code === 0 || undefined, 15_000, `${name} approved`);
      await eventually(async () => ((await (await fetch(`${cook.url}/api/branches/${id}/gates`)).json()) as { mergeable: boolean }).mergeable || undefined, 20_000, `${name}'s gates passed`);
    }
    const quick = await cook.cli(["branch", "merge", "app/feature/quick"]);
    assert.equal(quick.code, 0, quick.stderr);

    await page.goto(`${cook.url}/branches/app/feature/slow`);
    await page.click("#branch-gates button[name=merge]");
    // The candidate's own ci run takes over 4 s: the button answers before it ends, and the page follows.
    await page.waitForURL(/\/branches\/app\/feature\/slow$/);
    await page.locator("#branch-gates li.merge[data-state=gating]").waitFor({ timeout: 5_000 });
    await waitForHtmx();
    await mark();
    await page.locator("#branch-summary .pill.status-merged").waitFor({ timeout: 20_000 });
    await page.locator("#branch-gates li.merge[data-state=merged]").waitFor({ timeout: 10_000 });
    assert.equal(await marked(), true, "without a reload");
    await gitOk(["fetch", "--quiet", "origin"], { cwd: work });
    const parents = (await gitOk(["rev-list", "--parents", "-n", "1", "origin/main"], { cwd: work })).trim().split(" ").slice(1);
    assert.deepEqual(parents, [branches["feature/quick"].head, branches["feature/slow"].head], "a merge commit of the moved main and the branch");
  });

  it("shows only the end of a long log, with the whole log a link away", async () => {
    const lines = Array.from({ length: 3000 }, (_, i) => `line ${String(i).padStart(4, "0")} ${"x".repeat(40)}`).join("\n");
    await pushBranch("feature/chatty", { "ok.txt": null, "note.txt": `${lines}\n` });
    await page.goto(`${cook.url}/branches/app/feature/chatty`);
    await waitForGate("ci", "failed");
    const log = page.locator('#branch-gates li.gate[data-gate="ci"] pre.gate-log-text');
    const text = (await log.textContent()) ?? "";
    assert.ok(text.length <= 64 * 1024 + 1, `at most 64 K characters shown, not ${text.length}`);
    assert.match(text, /line 2999 x+\nend\n$/);
    assert.doesNotMatch(text, /line 0000/);
    assert.equal(await page.locator('#branch-gates li.gate[data-gate="ci"] .log-cut').isVisible(), true);
    const whole = await (await fetch(`${cook.url}${await page.locator('#branch-gates li.gate[data-gate="ci"] .log-note a').getAttribute("href")}`)).text();
    assert.match(whole, /^start\nline 0000 x+\n[\s\S]*line 2999 x+\nend\n$/);
  });

  it("shows Approve and Reject only to reviewers the approval gate accepts, and not at all without an approval gate", async () => {
    const repos = {
      team: '[[gates]]\nname = "sign-off"\nkind = "human_approval"\nreviewers = ["alice"]\n',
      solo: '[[gates]]\nname = "lint"\ncommand = "true"\n',
    };
    for (const [repo, toml] of Object.entries(repos)) {
      const seed = await makeWorkRepo([{ "cook.toml": toml }]);
      assert.equal((await cook.cli(["repo", "add", repo, `--clone=${seed}`])).code, 0);
      await gitOk(["checkout", "--quiet", "-b", "topic"], { cwd: seed });
      writeFileSync(join(seed, "topic.txt"), "topic\n");
      await gitOk(["add", "."], { cwd: seed });
      await gitOk(["commit", "--quiet", "-m", "topic"], { cwd: seed });
      await gitOk(["push", "--quiet", `${cook.url}/${repo}.git`, "topic"], { cwd: seed });
    }
    await eventually(async () => (await fetch(`${cook.url}/api/branches/team/topic`)).ok || undefined, 10_000, "team/topic tracked");
    await page.goto(`${cook.url}/branches/team/topic`);
    await waitForGate("sign-off", "waiting");
    assert.match((await page.locator("#branch-gates .merge-reason").textContent()) ?? "", /waits for approval by alice$/);
    assert.equal(await page.locator(".review-form").count(), 0, "local is not alice");

    await eventually(async () => (await fetch(`${cook.url}/api/branches/solo/topic`)).ok || undefined, 10_000, "solo/topic tracked");
    await page.goto(`${cook.url}/branches/solo/topic`);
    await waitForGate("lint", "passed");
    assert.equal(await page.locator(".review-form").count(), 0, "nothing asks for approval");
    assert.equal(await page.locator("#branch-gates button[name=merge]").isDisabled(), false);
  });

  it("marks a gate re-used when it passed on the same tree before, linking to that run", async () => {
    await page.goto(`${cook.url}/branches/solo/topic`);
    await waitForGate("lint", "passed");
    const earlier = await page.locator("#branch-gates .run-facts code").first().textContent();
    await page.click("#branch-gates button[name=rerun]");
    await page.waitForURL(/\/branches\/solo\/topic$/);
    await waitForGate("lint", "passed");
    const reused = page.locator('#branch-gates li.gate[data-gate="lint"] .gate-reused');
    await reused.waitFor({ timeout: 10_000 });
    assert.equal(await reused.textContent(), "re-used");
    assert.match((await reused.getAttribute("href")) ?? "", new RegExp(`\\?run=${earlier}$`));
    assert.equal(await page.locator('#branch-gates li.gate[data-gate="lint"] .gate-summary').textContent(), `passed on the same tree in ${earlier}`);
  });

  it("shows the page of a branch pushed to a repo whose default branch has no commit yet, with why it cannot merge", async () => {
    const seed = await makeWorkRepo([{ "first.txt": "first\n" }], "early");
    assert.equal((await cook.cli(["repo", "add", "empty"])).code, 0);
    await gitOk(["push", "--quiet", `${cook.url}/empty.git`, "early"], { cwd: seed });
    await eventually(async () => (await fetch(`${cook.url}/api/branches/empty/early`)).ok || undefined, 10_000, "empty/early tracked");
    const response = await page.goto(`${cook.url}/branches/empty/early`);
    assert.equal(response?.status(), 200);
    assert.equal(await page.locator("#branch-gates .merge-reason").textContent(), "empty has no commit on main to read its gates from");
    assert.equal(await page.locator("#branch-gates button[name=merge]").isDisabled(), true);
  });

  it("fits the branch page with its gates, runs and merges into a 375 px wide phone screen", async () => {
    const name = `feature/${"w".repeat(150)}`;
    await pushBranch(name, { "ok.txt": null, "note.txt": `${"Unbroken".repeat(60)}\n` });
    const context = await browser.newContext({ viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
    const phone = await context.newPage();
    try {
      await phone.goto(`${cook.url}/branches/app/${name}`);
      await phone.locator('#branch-gates li.gate[data-gate="ci"][data-state="failed"]').waitFor({ timeout: 15_000 });
      const failures: string[] = [];
      for (const path of [`/branches/app/${name}`, "/branches/app/readme/two", "/branches?repo=app", "/repos/app", "/"]) {
        await phone.goto(`${cook.url}${path}`);
        const { scrollWidth, innerWidth, offenders } = await measureOverflow(phone, 375);
        if (scrollWidth > 375 || innerWidth > 375) failures.push(`${abbreviate(path)} is ${Math.max(scrollWidth, innerWidth)} px wide:\n    ${offenders.join("\n    ")}`);
      }
      assert.deepEqual(failures, []);
    } finally {
      await context.close();
    }
  });
});
