import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { parsePage } from "../../helpers/crawl.js";
import { git, gitOk, makeWorkRepo, revParse } from "../../helpers/git.js";

describe("code browser: commit messages in a legacy encoding", () => {
  let cook: RunningCook;
  let work: string;
  const commits: Record<"latin1" | "shiftJis" | "latin1Author", string> = { latin1: "", shiftJis: "", latin1Author: "" };

  /** Commits as git writes them with i18n.commitEncoding: the message bytes as given, plus an `encoding` header. */
  const commitIn = async (encoding: string, message: Buffer, file: string) => {
    writeFileSync(join(work, file), `${file}\n`);
    writeFileSync(join(work, ".git", "message"), message);
    await gitOk(["add", "--all"], { cwd: work });
    await gitOk(["-c", `i18n.commitEncoding=${encoding}`, "commit", "--quiet", "-F", ".git/message"], { cwd: work });
    return revParse(work, "HEAD");
  };
  /** What `git log` prints (it re-encodes to UTF-8), the reference for what the pages show. */
  const gitLog = async (format: string, rev = "main") => (await gitOk(["log", `--format=${format}`, rev], { cwd: work })).split("\n").filter(Boolean);
  const page = async (path: string) => {
    const response = await fetch(`${cook.url}${path}`);
    const html = await response.text();
    assert.equal(response.status, 200, html);
    return parsePage(html);
  };

  before(async () => {
    work = await makeWorkRepo([{ "README.md": "hello\n" }]);
    commits.latin1 = await commitIn("ISO-8859-1", Buffer.from("Résumé des travaux\n\nDéjà fait : ça marche.\n", "latin1"), "a.txt");
    await gitOk(["tag", "v-latin1"], { cwd: work });
    await gitOk(["branch", "legacy"], { cwd: work });
    // 日本語 in Shift_JIS.
    commits.shiftJis = await commitIn("Shift_JIS", Buffer.from([0x93, 0xfa, 0x96, 0x7b, 0x8c, 0xea, 0x0a]), "b.txt");
    // git takes the author from the environment as it is; a commit made where names are ISO-8859-1 carries them so.
    const tree = await revParse(work, "HEAD^{tree}");
    const raw = Buffer.concat([
      Buffer.from(`tree ${tree}\nparent ${commits.shiftJis}\n`),
      Buffer.from("author J\xe9r\xf4me <jerome@example.com> 1700000000 +0100\ncommitter J\xe9r\xf4me <jerome@example.com> 1700000000 +0100\n", "latin1"),
      Buffer.from("encoding ISO-8859-1\n\nAuteur accentu\xe9\n", "latin1"),
    ]);
    const written = await git(["hash-object", "-t", "commit", "-w", "--stdin"], { cwd: work, input: raw });
    assert.equal(written.code, 0, written.stderr);
    commits.latin1Author = written.stdout.trim();
    await gitOk(["update-ref", "refs/heads/main", commits.latin1Author], { cwd: work });

    cook = await startCook();
    const imported = await cook.cli(["repo", "add", "enc", `--clone=${work}`]);
    assert.equal(imported.code, 0, imported.stderr);
  });
  after(() => cook?.stop());

  it("shows an ISO-8859-1 message on the commit page as git log does", async () => {
    const [subject] = await gitLog("%s", commits.latin1);
    assert.equal(subject, "Résumé des travaux");
    const commit = await page(`/repos/enc/commit/${commits.latin1}`);
    assert.equal(commit.text(commit.all("h2")[0]!), subject);
    assert.equal(commit.text(commit.all("pre", "message")[0]!), "Déjà fait : ça marche.");
  });

  it("shows each message and author in the log as git log does, whatever encoding each commit declares", async () => {
    const log = await page("/repos/enc/commits/main");
    const rows = log.all("table", "commits").flatMap((table) => log.all("tr", undefined, table));
    const shown = rows.map((row) => log.all("td", undefined, row).slice(0, 2).map((td) => log.text(td).trim()));
    const expected = (await gitLog("%s%x1f%an")).map((line) => line.split("\x1f"));
    assert.deepEqual(shown, expected);
    assert.deepEqual(shown.slice(0, 3), [["Auteur accentué", "Jérôme"], ["日本語", "Test Author"], ["Résumé des travaux", "Test Author"]]);
  });

  it("shows the author named in ISO-8859-1 on the commit page", async () => {
    const commit = await page(`/repos/enc/commit/${commits.latin1Author}`);
    assert.match(commit.text(commit.all("p", "meta")[0]!), /^\s*Jérôme <jerome@example\.com>/);
  });

  it("shows the subjects of branches and tags as git log does", async () => {
    const subjectsOf = async (path: string) => {
      const list = await page(path);
      return Object.fromEntries(list.all("tr").slice(1).map((row) => list.all("td", undefined, row).slice(0, 2).map((td) => list.text(td).replace(/\s*default$/, "").trim())));
    };
    assert.deepEqual(await subjectsOf("/repos/enc/branches"), { main: "Auteur accentué", legacy: "Résumé des travaux" });
    assert.deepEqual(await subjectsOf("/repos/enc/tags"), { "v-latin1": "Résumé des travaux" });
  });
});
