import assert from "node:assert/strict";
import { renameSync, rmSync, mkdirSync, writeFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { crawl, parsePage } from "../../helpers/crawl.js";
import { gitOk, revParse, tempDir } from "../../helpers/git.js";

// Names git prints quoted (space and quote only in some tools, tab, newline, UTF-8, bytes that are
// not UTF-8) or that pathspecs would read as patterns. Each file says which one it is.
const utf8Names = ["my notes.txt", 'say "hi".txt', "café.txt", "tab\there.txt", "new\nline.txt", "a*b.txt", "aXb.txt", "<img src=x onerror=alert(1)>.txt", "ends in CR\r"];
const latin1 = (text: string) => Buffer.from(text, "latin1");
const notUtf8 = latin1("r\xe9sum\xe9.txt");
/** git can take this name neither as an argument (not UTF-8) nor on a line of input (a line break). */
const notUtf8WithNewline = latin1("both\n\xe9.txt");
const notUtf8Dir = latin1("d\xe9j\xe0");
/** How a page shows a name that is not UTF-8: each stray byte as U+FFFD. */
const shown = (bytes: Buffer) => bytes.toString("utf8");
const contentOf = (name: Buffer | string) => `content of ${Buffer.from(name).toString("hex")}\n`;

describe("code browser: file names git quotes or cannot print as text", () => {
  let cook: RunningCook;
  let work: string;
  const commits: Record<"add" | "rename" | "remove", string> = { add: "", rename: "", remove: "" };

  const at = (name: Buffer | string) => Buffer.concat([Buffer.from(`${work}/`), Buffer.from(name)]);
  const commit = async (message: string) => {
    await gitOk(["add", "--all"], { cwd: work });
    await gitOk(["commit", "--quiet", "-m", message], { cwd: work });
    return revParse(work, "HEAD");
  };
  const fetchPage = async (path: string) => {
    const response = await fetch(`${cook.url}${path}`);
    return { status: response.status, html: await response.text() };
  };
  /** What a commit page lists: its summary, and per file the status, the names shown and their links. */
  const changedFiles = async (sha: string) => {
    const { status, html } = await fetchPage(`/repos/paths/commit/${sha}`);
    assert.equal(status, 200, html);
    const page = parsePage(html);
    return {
      summary: page.text(page.all("p", "summary")[0]!),
      files: page.all("section", "diff-file").map((section) => {
        const heading = page.all("h3", undefined, section)[0]!;
        return {
          status: page.text(page.all("span", "change", heading)[0]!),
          names: page.all("a", undefined, heading).map((a) => page.text(a)),
          links: page.links(heading),
        };
      }),
    };
  };
  /** Fetches a file link and says which file's content it shows. */
  const fileBehind = async (link: string) => {
    const { status, html } = await fetchPage(link);
    assert.equal(status, 200, `${link}: ${html}`);
    const shownContent = /content of ([0-9a-f]+)/.exec(html)?.[1];
    return shownContent ? Buffer.from(shownContent, "hex").toString("utf8") : html.includes("changed") ? "(changed)" : "(none)";
  };

  before(async () => {
    work = tempDir("cook-paths-");
    await gitOk(["init", "--quiet", "--initial-branch=main", work]);
    for (const name of [...utf8Names, notUtf8, notUtf8WithNewline]) writeFileSync(at(name), contentOf(name));
    mkdirSync(at(notUtf8Dir));
    const inside = Buffer.concat([notUtf8Dir, Buffer.from("/inside.txt")]);
    writeFileSync(at(inside), contentOf(inside));
    commits.add = await commit("add");

    renameSync(at(notUtf8), at(latin1("n\xe9w name.txt")));
    renameSync(at("new\nline.txt"), at("moved\nhere.txt"));
    writeFileSync(at("aXb.txt"), "changed\n");
    commits.rename = await commit("rename");

    rmSync(at('say "hi".txt'));
    commits.remove = await commit("remove");

    cook = await startCook();
    const imported = await cook.cli(["repo", "add", "paths", `--clone=${work}`]);
    assert.equal(imported.code, 0, imported.stderr);
  });
  after(() => cook?.stop());

  it("lists every added file of a commit under its own name, each linking to that file", async () => {
    const { summary, files } = await changedFiles(commits.add);
    const inside = Buffer.concat([notUtf8Dir, Buffer.from("/inside.txt")]);
    assert.match(summary, /^12 files changed/);
    const expected = [...utf8Names, shown(notUtf8), shown(notUtf8WithNewline), shown(inside)].sort();
    assert.deepEqual(files.map((f) => f.names[0]).sort(), expected);
    assert.ok(files.every((f) => f.status === "added" && f.links.length === 1));
    for (const file of files) {
      // The page behind each link shows the content written to exactly that file.
      const original = [...utf8Names, notUtf8, notUtf8WithNewline, inside].find((name) => shown(Buffer.from(name)) === file.names[0])!;
      assert.equal(await fileBehind(file.links[0]!), Buffer.from(original).toString("utf8"), file.names[0]);
    }
  });

  it("shows renames of such files as old → new, linking the old name at the parent and the new at the commit", async () => {
    const { summary, files } = await changedFiles(commits.rename);
    assert.match(summary, /^3 files changed/);
    const byName = Object.fromEntries(files.map((f) => [f.names.join(" → "), f]));
    const renamed = byName[`${shown(notUtf8)} → ${shown(latin1("n\xe9w name.txt"))}`];
    assert.equal(renamed?.status, "renamed", JSON.stringify(files));
    assert.equal(byName["new\nline.txt → moved\nhere.txt"]?.status, "renamed");
    assert.equal(byName["aXb.txt"]?.status, "modified");
    for (const file of [renamed!, byName["new\nline.txt → moved\nhere.txt"]!]) {
      const [oldLink, newLink] = file.links;
      assert.match(oldLink!, new RegExp(`/blob/${commits.add}/`));
      assert.match(newLink!, new RegExp(`/blob/${commits.rename}/`));
      assert.equal(await fileBehind(oldLink!), await fileBehind(newLink!)); // same content, both reachable
    }
    assert.equal(await fileBehind(byName["aXb.txt"]!.links[0]!), "(changed)");
  });

  it("links a deleted file to its last version, in the parent", async () => {
    const { summary, files } = await changedFiles(commits.remove);
    assert.match(summary, /^1 file changed/);
    assert.deepEqual(files.map((f) => [f.status, f.names]), [["deleted", ['say "hi".txt']]]);
    assert.match(files[0]!.links[0]!, new RegExp(`/blob/${commits.rename}/`));
    assert.equal(await fileBehind(files[0]!.links[0]!), 'say "hi".txt');
  });

  it("lists the history of a file by its exact name: not as a pattern, and for names that are not UTF-8", async () => {
    const subjects = async (path: string) => {
      const { status, html } = await fetchPage(path);
      assert.equal(status, 200, html);
      const page = parsePage(html);
      return page.all("td", "subject").map((td) => page.text(td).trim());
    };
    assert.deepEqual(await subjects("/repos/paths/commits/main/a*b.txt"), ["add"]); // a pattern would match aXb.txt too
    assert.deepEqual(await subjects("/repos/paths/commits/main/n%E9w%20name.txt"), ["rename"]);
    assert.deepEqual(await subjects("/repos/paths/commits/main/moved%0Ahere.txt"), ["rename"]);
    assert.deepEqual(await subjects(`/repos/paths/commits/main/${encodeURIComponent("café.txt")}`), ["add"]);
  });

  it("answers 404, not 500, for a path of bytes that names nothing", async () => {
    for (const path of ["/repos/paths/blob/main/%FF%FE", "/repos/paths/tree/main/%C3", "/repos/paths/raw/main/%E9%FF"]) {
      const { status } = await fetchPage(path);
      assert.equal(status, 404, path);
    }
  });

  it("leads every link of the repo's pages to a page that exists", async () => {
    const { statuses, broken } = await crawl(cook.url, ["/repos/paths"], { within: ["/repos/paths"] });
    assert.deepEqual(broken, []);
    // The crawl reached the files whose names are not UTF-8, through the links the pages built.
    assert.equal(statuses.get("/repos/paths/blob/main/n%E9w%20name.txt"), 200);
    assert.equal(statuses.get("/repos/paths/tree/main/d%E9j%E0"), 200);
    assert.equal(statuses.get("/repos/paths/blob/main/d%E9j%E0/inside.txt"), 200);
    assert.equal(statuses.get("/repos/paths/blob/main/moved%0Ahere.txt"), 200);
    assert.equal(statuses.get("/repos/paths/commits/main/n%E9w%20name.txt"), 200);
    // Its page is there; it offers no history, which git could not be asked for.
    assert.equal(statuses.get("/repos/paths/blob/main/both%0A%E9.txt"), 200);
    assert.equal(statuses.has("/repos/paths/commits/main/both%0A%E9.txt"), false);
  });
});
