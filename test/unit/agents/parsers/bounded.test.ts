import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bounded, capText, maxEventTextChars } from "../../../../src/agents/parsers/bounded.js";
import { parserFor } from "../../../../src/agents/parsers/index.js";
import { agentKinds, type AgentEvent } from "../../../../src/core/agent-event.js";

const tenMiB = 10 * 1024 * 1024;

describe("every parser's bounds", () => {
  it("keeps 64 KiB of a 10 MB line, says how much it cut, and stays fast, for every kind and shape", () => {
    const filler = "x".repeat(tenMiB);
    const lines = [
      filler,
      JSON.stringify({ type: "assistant", message: { id: "m", content: [{ type: "text", text: filler }] }, session_id: "s" }),
      JSON.stringify({ type: "item.completed", item: { id: "i", type: "command_execution", command: "cat big", aggregated_output: filler, exit_code: 0, status: "completed" } }),
      JSON.stringify({ type: "tool_use", tool_name: "write_file", tool_id: "t", parameters: { file_path: "a", content: filler } }),
      JSON.stringify({ type: "text", sessionID: "ses", part: { text: filler } }),
      JSON.stringify({ type: "mystery", blob: filler }),
    ];
    for (const kind of agentKinds) {
      const parser = parserFor(kind);
      const started = process.hrtime.bigint();
      const events: AgentEvent[] = [...lines.flatMap((line) => parser.line(line)), ...parser.end()];
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const kept = JSON.stringify(events).length;
      assert.ok(kept < lines.length * (maxEventTextChars + 4096) * 2, `${kind} kept ${kept} chars`);
      assert.ok(events.some((e) => JSON.stringify(e).includes("…[truncated")), `${kind} marks what it cut`);
      assert.ok(ms < 5000, `${kind} took ${ms} ms`);
    }
  });

  it("cuts text at the cap with a marker counting the rest, never inside a surrogate pair", () => {
    assert.equal(capText("short"), "short");
    const cut = capText("a".repeat(maxEventTextChars + 10));
    assert.equal(cut, `${"a".repeat(maxEventTextChars)}…[truncated 10 chars]`);
    const emoji = capText("a".repeat(maxEventTextChars - 1) + "😀" + "b");
    assert.equal(emoji, `${"a".repeat(maxEventTextChars - 1)}…[truncated 3 chars]`);
  });

  it("turns a line that makes the format code throw into a raw event, and flushes once", () => {
    const parser = bounded({
      line(text) {
        if (text === "boom") throw new Error("format code bug");
        return [{ kind: "assistant_message", text }];
      },
      end: () => [{ kind: "assistant_message", text: "flushed" }],
    });
    assert.deepEqual(parser.line("boom"), [{ kind: "raw", stream: "stdout", text: "boom" }]);
    assert.deepEqual(parser.line("fine"), [{ kind: "assistant_message", text: "fine" }]);
    assert.deepEqual(parser.end(), [{ kind: "assistant_message", text: "flushed" }]);
    assert.deepEqual(parser.end(), []);
    assert.deepEqual(parser.line("late"), [{ kind: "raw", stream: "stdout", text: "late" }]);
  });
});
