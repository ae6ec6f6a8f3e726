import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parserFor } from "../../../../src/agents/parsers/index.js";
import { parseLines } from "../../../helpers/agent-streams.js";

const say = (text: string, extra: object = {}) => ({ type: "assistant", message: { role: "assistant", content: [{ type: "text", text }] }, session_id: "s", ...extra });

describe("the Cursor agent stream-json parser", () => {
  it("ends without a result line with what it holds and no turn_completed (the runner judges the exit)", () => {
    const parser = parserFor("cursor");
    parser.line(JSON.stringify({ type: "system", subtype: "init", session_id: "s", model: "Auto" }));
    assert.deepEqual(parser.line(JSON.stringify(say("Done."))), []);
    assert.deepEqual(parser.end(), [{ kind: "assistant_message", text: "Done." }]);
  });

  it("merges partial-output deltas and drops the lines that repeat them", () => {
    const events = parseLines("cursor", [
      say("Reading…", { timestamp_ms: 1 }),
      say("Reading…", { model_call_id: "m1", timestamp_ms: 2 }),
      { type: "tool_call", subtype: "started", call_id: "c", tool_call: { lsToolCall: { args: { path: "." } } }, session_id: "s" },
      say("Two ", { timestamp_ms: 3 }),
      say("files.", { timestamp_ms: 4 }),
      say("Two files.", { timestamp_ms: 5 }),
      say("Reading…Two files."),
    ]);
    assert.deepEqual(
      events.filter((e) => e.kind === "assistant_message"),
      [
        { kind: "assistant_message", text: "Reading…" },
        { kind: "assistant_message", text: "Two files." },
      ],
    );
  });

  it("reports a shell command's output and a non-zero exit as an error result", () => {
    const shell = { shellToolCall: { args: { command: "false" }, result: { success: { exitCode: 1, stdout: "", stderr: "nope" } } } };
    const events = parseLines("cursor", [{ type: "tool_call", subtype: "completed", call_id: "c", tool_call: shell, session_id: "s" }]);
    assert.deepEqual(events.slice(1), [{ kind: "tool_result", callId: "c", output: "nope", isError: true }]);
  });

  it("names an MCP call by its tool and reports a failed write without a file change", () => {
    const events = parseLines("cursor", [
      { type: "tool_call", subtype: "started", call_id: "m", tool_call: { mcpToolCall: { args: { name: "docs-search", toolName: "search", providerIdentifier: "docs", args: { q: "x" } } } } },
      { type: "tool_call", subtype: "completed", call_id: "w", tool_call: { writeToolCall: { args: { path: "a.txt" }, result: { error: { message: "permission denied" } } } } },
    ]);
    assert.deepEqual(events, [
      { kind: "tool_call", callId: "m", name: "search", input: { name: "docs-search", toolName: "search", providerIdentifier: "docs", args: { q: "x" } } },
      { kind: "tool_result", callId: "w", output: "permission denied", isError: true },
    ]);
  });
});
