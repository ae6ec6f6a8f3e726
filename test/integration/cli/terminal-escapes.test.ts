import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startCook, type CliResult, type RunningCook } from "../../helpers/cook.js";
import { makeWorkRepo, tempDir } from "../../helpers/git.js";

// What a terminal acts on: C0 controls but newline (tab too, where a test says so), DEL, C1
// controls, and the bidi embedding/override/isolate characters.
const raw = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const rawKeepingLines = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

const retitle = "\u001b]0;pwned\u0007";
const clear = "\u001b[2J";
const csi = "\u009b31m";
const reversed = "\u202eevil\u202c";

function assertInert(result: CliResult, keepLines = false): void {
  assert.equal(result.code, 0, result.stderr);
  const unsafe = keepLines ? rawKeepingLines : raw;
  for (const [name, text] of [["stdout", result.stdout.replace(/\n$/, "")], ["stderr", result.stderr.replace(/\n$/, "")]] as const) {
    const lines = keepLines ? [text] : text.split("\n");
    for (const line of lines) assert.doesNotMatch(line, unsafe, `${name}: ${JSON.stringify(line)}`);
  }
}

describe("CLI output of text that came from the server", () => {
  let cook: RunningCook;

  before(async () => {
    cook = await startCook();
    assert.equal((await cook.cli(["repo", "add", "demo"])).code, 0);
    const file = join(tempDir(), "task.md");
    // YAML double-quoted escapes: \e is ESC, \a is BEL, \x9b is the one-character CSI.
    writeFileSync(
      file,
      `---\nid: hostile\ntitle: "Title \\e]0;pwned\\a then \\e[2J and \\x9b31m and \\u202eevil\\u202c"\nrepo: demo\n` +
        `owner: "ana \\e[2J"\n"key\\e[2J": plain\n---\nBody line \u001b[2J\n\tindented \u202eevil\u202c\r\nCR\roverwrite\n`,
    );
    const created = await cook.cli(["task", "create", "--file", file]);
    assert.equal(created.code, 0, created.stderr);
  });
  after(() => cook?.stop());

  it("shows control and bidi characters in task titles escaped in cook task list", async () => {
    const list = await cook.cli(["task", "list"]);
    assertInert(list);
    assert.ok(list.stdout.includes("Title \\e]0;pwned\\x07 then \\e[2J and \\x9b31m and \\u{202e}evil\\u{202c}"), list.stdout);
  });

  it("escapes the title, extra keys and values in cook task show, and keeps the body's lines and tabs", async () => {
    const show = await cook.cli(["task", "show", "hostile"]);
    assertInert(show, true);
    const lines = show.stdout.split("\n");
    assert.equal(lines[0], "hostile: Title \\e]0;pwned\\x07 then \\e[2J and \\x9b31m and \\u{202e}evil\\u{202c}");
    assert.ok(lines.includes("owner: ana \\e[2J"), show.stdout);
    assert.ok(lines.includes("key\\e[2J: plain"), show.stdout);
    assert.ok(show.stdout.endsWith("\nBody line \\e[2J\n\tindented \\u{202e}evil\\u{202c}\nCR\\roverwrite\n"), JSON.stringify(show.stdout));
  });

  it("escapes what --json leaves raw (C1 and bidi) and keeps the JSON valid", async () => {
    for (const args of [["task", "list", "--json"], ["task", "show", "hostile", "--json"]]) {
      const result = await cook.cli(args);
      assertInert(result, true);
      assert.ok(result.stdout.includes("\\u009b31m") && result.stdout.includes("\\u202eevil"), result.stdout);
      const title = (JSON.parse(result.stdout) as Array<{ title: string }> | { task: { title: string } });
      assert.equal(Array.isArray(title) ? title[0]!.title : title.task.title, `Title ${retitle} then ${clear} and ${csi} and ${reversed}`);
    }
  });

  it("escapes event fields in cook events, as text and as JSON lines, and in events publish", async () => {
    const data = JSON.stringify({ msg: `${retitle}${clear}${csi}${reversed}`, [`k${clear}`]: 1 });
    const published = await cook.cli(["events", "publish", "demo", "note", "--data", data]);
    assertInert(published);
    assert.ok(published.stdout.includes("\\u001b]0;pwned\\u0007\\u001b[2J\\u009b31m\\u202eevil\\u202c"), published.stdout);

    const text = await cook.cli(["events", "--subject", "cook.custom.demo.>"]);
    assertInert(text);
    assert.match(text.stdout, /custom\.note +demo {2}\{"by":"local","msg":"\\u001b\]0;pwned\\u0007\\u001b\[2J\\u009b31m\\u202eevil\\u202c","k\\u001b\[2J":1\}\n$/);

    const lines = await cook.cli(["events", "--subject", "cook.custom.demo.>", "--json"]);
    assertInert(lines);
    assert.ok(lines.stdout.includes("\\u009b31m\\u202eevil\\u202c"), lines.stdout);
    const event = JSON.parse(lines.stdout.trim()) as { data: { msg: string } };
    assert.equal(event.data.msg, `${retitle}${clear}${csi}${reversed}`);
  });

  it("escapes the server's error messages on stderr", async () => {
    const missing = await cook.cli(["task", "show", `nope${clear}${reversed}`]);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, "cook: no task 'nope\\e[2J\\u{202e}evil\\u{202c}'\n");
  });

  it("escapes a repo's default branch in cook repo add and cook repo list", async () => {
    const source = await makeWorkRepo([{ "a.txt": "a\n" }], `main${reversed}\u009b2J`);
    const added = await cook.cli(["repo", "add", "odd", `--clone=${source}`]);
    assertInert(added);
    assert.ok(added.stdout.endsWith("(default branch main\\u{202e}evil\\u{202c}\\x9b2J)\n"), added.stdout);
    const list = await cook.cli(["repo", "list"]);
    assertInert(list);
    assert.match(list.stdout, /\nodd +main\\u\{202e\}evil\\u\{202c\}\\x9b2J +\d{4}-/);
  });
});
