import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { agentKinds } from "../../../src/core/agent-event.js";
import { parseFile, streamsDir } from "../../helpers/agent-streams.js";
import { runCli } from "../../helpers/cook.js";

const fixture = join(streamsDir, "claude", "composed-2.1-write-commit.jsonl");

describe("cook agent parse", () => {
  it("prints a recorded stream's events one per line, without a server", async () => {
    const result = await runCli(["agent", "parse", "claude", fixture], { env: { COOK_SERVER: "http://127.0.0.1:9" } });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, "");
    const lines = result.stdout.trimEnd().split("\n");
    const expected = (await parseFile("claude", fixture)).events;
    assert.equal(lines.length, expected.length);
    assert.deepEqual(lines.map((l) => l.split(/\s+/)[0]), expected.map((e) => e.kind));
    assert.equal(lines[0], "session_started   5f0c1a7e-3b2d-4c6e-9a8f-1d2e3f4a5b6c  model claude-sonnet-4-5-20250929");
    assert.ok(lines.includes("file_change       add /work/env/hello/hello.txt"), result.stdout);
  });

  it("prints the events as JSON lines with --json, from a file or standard input", async () => {
    const expected = (await parseFile("codex", join(streamsDir, "codex", "upstream-0.44-exec-docs.jsonl"))).events;
    const fromFile = await runCli(["agent", "parse", "codex", join(streamsDir, "codex", "upstream-0.44-exec-docs.jsonl"), "--json"]);
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.deepEqual(fromFile.stdout.trimEnd().split("\n").map((l) => JSON.parse(l)), expected);

    const input = `${JSON.stringify({ type: "thread.started", thread_id: "t1" })}\nnot json\n`;
    for (const args of [["agent", "parse", "codex", "-", "--json"], ["agent", "parse", "codex", "--json"]]) {
      const fromStdin = await runCli(args, { input });
      assert.equal(fromStdin.code, 0, fromStdin.stderr);
      assert.deepEqual(fromStdin.stdout.trimEnd().split("\n").map((l) => JSON.parse(l)), [
        { kind: "session_started", nativeId: "t1" },
        { kind: "raw", stream: "stdout", text: "not json" },
      ]);
    }
  });

  it("shows control and bidi characters from the stream escaped, in both forms", async () => {
    const input = "\u001b[2Jcleared \u202ereversed\u0007\n";
    const text = await runCli(["agent", "parse", "command"], { input });
    assert.equal(text.stdout, "assistant_message \\e[2Jcleared \\u{202e}reversed\\x07\n");
    const json = await runCli(["agent", "parse", "command", "--json"], { input });
    assert.equal(json.stdout, '{"kind":"assistant_message","text":"\\u001b[2Jcleared \\u202ereversed\\u0007"}\n');
  });

  it("has --help, and a missing agent is a usage error", async () => {
    const help = await runCli(["agent", "parse", "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: cook agent parse \[options\] <agent> \[file\]/);
    const usage = await runCli(["agent", "parse"]);
    assert.deepEqual([usage.code, usage.stdout], [2, ""]);
    assert.match(usage.stderr, /^error: missing required argument 'agent'/);
  });

  it("refuses an unknown agent with one line naming the kinds, and prints nothing else", async () => {
    const result = await runCli(["agent", "parse", "aider", fixture]);
    assert.deepEqual([result.code, result.stdout], [1, ""]);
    assert.equal(result.stderr, `cook: unknown agent 'aider': the kinds are ${agentKinds.join(", ")}\n`);
  });

  it("refuses a missing file or a folder with one line", async () => {
    const missing = join(mkdtempSync(join(tmpdir(), "cook-parse-")), "nope.jsonl");
    const result = await runCli(["agent", "parse", "gemini", missing]);
    assert.deepEqual([result.code, result.stdout, result.stderr], [1, "", `cook: no such file: ${missing}\n`]);
    const folder = await runCli(["agent", "parse", "gemini", streamsDir]);
    assert.deepEqual([folder.code, folder.stdout, folder.stderr], [1, "", `cook: ${streamsDir} is a directory, not a file\n`]);
  });

  it("keeps a stream's last line without a newline and a huge line bounded", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cook-parse-"));
    const file = join(dir, "big.jsonl");
    writeFileSync(file, `${"y".repeat(3 * 1024 * 1024)}\n{"type":"init","session_id":"s1"}`);
    const result = await runCli(["agent", "parse", "gemini", file, "--json"]);
    assert.equal(result.code, 0, result.stderr);
    const events = result.stdout.trimEnd().split("\n").map((l) => JSON.parse(l) as { kind: string; text?: string });
    assert.deepEqual(events.map((e) => e.kind), ["raw", "session_started"]);
    assert.match(events[0]!.text!, /…\[truncated \d+ chars\]$/);
    assert.ok(result.stdout.length < 100_000);
  });
});
