import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { launchBrowser } from "../helpers/browser.js";
import { startCook, type RunningCook } from "../helpers/cook.js";
import { gitOk, makeWorkRepo, revParse } from "../helpers/git.js";

const readme = `# Demo shop

Welcome to **demo**. See [the app](src/app.ts) and ![logo](docs/logo.png).

<script>document.title = "pwned-script"</script>
<img src="x" onerror="document.title = 'pwned-img'">
<a href="javascript:document.title='pwned-link'">click me</a>
`;

describe("code browser", () => {
  let cook: RunningCook;
  let browser: Browser;
  let page: Page;
  let source: string;

  before(async () => {
    const files = {
      "README.md": readme,
      "src/app.ts": "// entry point\nexport function greet(name: string): string {\n  return `hello ${name}`;\n}\n",
      "src/page.html": "<html><body><script>document.title='pwned-raw'</script>hi</body></html>\n",
      "assets/logo.bin": Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0]), randomBytes(2000)]),
      "data/big.txt": "a line of a large file\n".repeat(70_000),
      "docs/logo.png": randomBytes(100),
    };
    const history = [files, ...Array.from({ length: 59 }, (_, i) => ({ "CHANGELOG.md": `entry ${i + 1}\n` }))];
    source = await makeWorkRepo(history);
    await gitOk(["checkout", "--quiet", "-b", "feature/login"], { cwd: source });
    await gitOk(["rm", "--quiet", "src/page.html"], { cwd: source });
    await gitOk(["commit", "--quiet", "-m", "Remove the page\n\nIt ran scripts."], { cwd: source });
    await gitOk(["tag", "v1.0", "main"], { cwd: source });
    await gitOk(["checkout", "--quiet", "main"], { cwd: source });

    [cook, browser] = await Promise.all([startCook(), launchBrowser()]);
    const imported = await cook.cli(["repo", "add", "demo", `--clone=${source}`]);
    assert.equal(imported.code, 0, imported.stderr);
    page = await browser.newPage();
  });
  after(async () => {
    await browser?.close();
    await cook?.stop();
  });

  it("lists repos with their default branch", async () => {
    await page.goto(`${cook.url}/repos`);
    const row = page.locator("table.list tbody tr", { hasText: "demo" });
    assert.match((await row.textContent()) ?? "", /demo\s+main/);
    await row.locator("a").click();
    await page.waitForURL(`${cook.url}/repos/demo`);
  });

  it("shows the repo home with the README as sanitized markdown, the clone URL and branches", async () => {
    await page.goto(`${cook.url}/repos/demo`);
    assert.equal(await page.locator(".markdown h1").textContent(), "Demo shop");
    assert.equal(await page.locator(".markdown strong").textContent(), "demo");
    assert.equal(await page.locator(".markdown a", { hasText: "the app" }).getAttribute("href"), "/repos/demo/blob/main/src/app.ts");
    assert.equal(await page.locator(".markdown img").first().getAttribute("src"), "/repos/demo/raw/main/docs/logo.png");
    assert.equal(await page.locator(".markdown script").count(), 0);
    assert.equal(await page.locator(".markdown [onerror]").count(), 0);
    assert.equal(await page.locator(".markdown a", { hasText: "click me" }).getAttribute("href"), null);
    await page.locator(".markdown a", { hasText: "click me" }).click();
    assert.doesNotMatch(await page.title(), /pwned/);
    assert.equal(await page.inputValue("#clone-url"), `${cook.url}/demo.git`);
    assert.deepEqual(await page.locator("h2 + table.list a:not([href*='/commit/'])").allTextContents(), ["main", "feature/login"]);
  });

  it("browses the tree of a branch whose name has a slash, down to a file", async () => {
    await page.goto(`${cook.url}/repos/demo/tree/feature/login`);
    const names = await page.locator("table.tree td:nth-child(2) a").allTextContents();
    assert.deepEqual(names.slice(0, 4), ["assets", "data", "docs", "src"]);
    await page.click("table.tree a:text-is('src')");
    await page.waitForURL(`${cook.url}/repos/demo/tree/feature/login/src`);
    assert.deepEqual(await page.locator("table.tree td:nth-child(2) a").allTextContents(), ["app.ts"]);
    assert.equal(await page.locator("table.tree a:text-is('..')").getAttribute("href"), "/repos/demo/tree/feature/login");
    await page.click("table.tree a:text-is('app.ts')");
    await page.waitForURL(`${cook.url}/repos/demo/blob/feature/login/src/app.ts`);
    assert.equal(await page.locator(".crumbs .ref").textContent(), "feature/login");
  });

  it("shows a file with syntax highlighting, line numbers and linkable lines", async () => {
    await page.goto(`${cook.url}/repos/demo/blob/main/src/app.ts#L3`);
    assert.equal(await page.locator("table.code tr").count(), 4);
    assert.equal(await page.locator("#L2 td.ln").textContent(), "2");
    assert.equal(await page.locator("#L2 .hljs-keyword").first().textContent(), "export");
    assert.equal(await page.locator("#L1 .hljs-comment").textContent(), "// entry point");
    const targeted = await page.evaluate(() => (globalThis as unknown as { document: { querySelector(s: string): { id: string } | null } }).document.querySelector(":target")?.id);
    assert.equal(targeted, "L3");
  });

  it("detects binary and large files instead of printing them", async () => {
    await page.goto(`${cook.url}/repos/demo/blob/main/assets/logo.bin`);
    assert.match((await page.locator(".notice").textContent()) ?? "", /Binary file, not shown/);
    await page.goto(`${cook.url}/repos/demo/blob/main/data/big.txt`);
    assert.match((await page.locator(".notice").textContent()) ?? "", /too large to display \(1\.5 MiB\)/);
    assert.equal(await page.locator("table.code").count(), 0);
  });

  it("serves raw files as plain text or as attachments, never as HTML", async () => {
    const html = await fetch(`${cook.url}/repos/demo/raw/main/src/page.html`);
    assert.equal(html.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.match(html.headers.get("content-security-policy") ?? "", /sandbox/);
    await page.goto(`${cook.url}/repos/demo/raw/main/src/page.html`);
    assert.doesNotMatch(await page.title(), /pwned/);
    const binary = await fetch(`${cook.url}/repos/demo/raw/main/assets/logo.bin`);
    assert.equal(binary.headers.get("content-type"), "application/octet-stream");
    assert.equal(binary.headers.get("content-disposition"), 'attachment; filename="logo.bin"');
    assert.equal(Buffer.from(await binary.arrayBuffer()).subarray(0, 4).toString("latin1"), "\x89PNG");
  });

  it("pages through the commit log", async () => {
    await page.goto(`${cook.url}/repos/demo/commits/main`);
    assert.equal(await page.locator("table.commits tbody tr").count(), 50);
    assert.equal(await page.locator("table.commits .subject a").first().textContent(), "commit 60");
    await page.click("a[rel=next]");
    await page.waitForURL(/page=1$/);
    assert.equal(await page.locator("table.commits tbody tr").count(), 10);
    assert.equal(await page.locator("table.commits .subject a").last().textContent(), "commit 1");
    assert.equal(await page.locator("a[rel=next]").count(), 0);
    assert.equal(await page.locator("a[rel=prev]").count(), 1);
  });

  it("shows a commit with its message and diff", async () => {
    const sha = await revParse(source, "feature/login");
    await page.goto(`${cook.url}/repos/demo/commit/${sha}`);
    assert.equal(await page.locator(".commit-head h2").textContent(), "Remove the page");
    assert.equal((await page.locator("pre.message").textContent())?.trim(), "It ran scripts.");
    const file = page.locator(".diff-file");
    assert.match((await file.locator("h3").textContent()) ?? "", /deleted\s+src\/page\.html/);
    assert.equal(await file.locator("tr.del td.src").textContent(), "<html><body><script>document.title='pwned-raw'</script>hi</body></html>");
    assert.doesNotMatch(await page.title(), /pwned/);
  });

  it("lists branches and tags", async () => {
    await page.goto(`${cook.url}/repos/demo/branches`);
    assert.deepEqual((await page.locator("table.list tbody td:first-child a").allTextContents()).sort(), ["feature/login", "main"]);
    await page.goto(`${cook.url}/repos/demo/tags`);
    assert.deepEqual(await page.locator("table.list tbody td:first-child a").allTextContents(), ["v1.0"]);
    await page.click("a:text-is('v1.0')");
    await page.waitForURL(`${cook.url}/repos/demo/tree/v1.0`);
  });

  it("answers traversal and unknown refs or paths in page URLs with 404", async () => {
    const attempts = [
      "/repos/demo/blob/main/../../../../etc/passwd",
      "/repos/demo/blob/main/%2e%2e/%2e%2e/etc/passwd",
      "/repos/demo/raw/main/..%2F..%2F..%2Fetc%2Fpasswd",
      "/repos/..%2F..%2Fetc/tree/main",
      "/repos/%2Fetc/tree/main",
      "/repos/demo/raw/main:README.md/x",
      "/repos/demo/tree/nope",
      "/repos/demo/blob/main/no/such/file",
      "/repos/demo/commit/0123456789abcdef0123456789abcdef01234567",
      "/repos/demo/commit/main~1",
    ];
    for (const path of attempts) {
      const response = await fetch(`${cook.url}${path}`);
      assert.equal(response.status, 404, path);
      assert.doesNotMatch(await response.text(), /root:x:0/, path);
    }
  });
});
