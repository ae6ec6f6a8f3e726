import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parserFor } from "../../../../src/agents/parsers/index.js";
import { ofKind, parseLines } from "../../../helpers/agent-streams.js";

const delta = (content: string) => ({ type: "message", role: "assistant", content, delta: true });

describe("the Gemini CLI stream-json parser", () => {
  it("merges assistant deltas into one message, emitted when the next other line arrives", () => {
    const parser = parserFor("gemini");
    assert.deepEqual(parser.line(JSON.stringify(delta("Hel"))), []);
    assert.deepEqual(parser.line(JSON.stringify(delta("lo"))), []);
    assert.deepEqual(parser.line(JSON.stringify({ type: "tool_use", tool_name: "read_file", tool_id: "r1", parameters: { file_path: "a" } })), [
      { kind: "assistant_message", text: "Hello" },
      { kind: "tool_call", callId: "r1", name: "read_file", input: { file_path: "a" } },
    ]);
  });

  it("flushes a streamed message at the end, and before a line that is not JSON", () => {
    const parser = parserFor("gemini");
    parser.line(JSON.stringify(delta("first")));
    assert.deepEqual(parser.line("[WARN] something on stdout"), [
      { kind: "assistant_message", text: "first" },
      { kind: "raw", stream: "stdout", text: "[WARN] something on stdout" },
    ]);
    parser.line(JSON.stringify(delta("last")));
    assert.deepEqual(parser.end(), [{ kind: "assistant_message", text: "last" }]);
    assert.deepEqual(parser.end(), []);
  });

  it("reports write_file as written (or as the output says) and replace as an update, only when they succeed", () => {
    const call = (id: string, tool: string, path: string) => ({ type: "tool_use", tool_name: tool, tool_id: id, parameters: { file_path: path } });
    const events = parseLines("gemini", [
      call("w0", "write_file", "/w/new.txt"),
      { type: "tool_result", tool_id: "w0", status: "success" },
      call("w1", "write_file", "/w/a.txt"),
      { type: "tool_result", tool_id: "w1", status: "success", output: "Successfully overwrote file: /w/a.txt." },
      call("r1", "replace", "/w/b.txt"),
      { type: "tool_result", tool_id: "r1", status: "success", output: "Successfully modified file: /w/b.txt (1 replacements)." },
      call("r2", "replace", "/w/c.txt"),
      { type: "tool_result", tool_id: "r2", status: "error", error: { type: "EDIT_NO_OCCURRENCE_FOUND", message: "0 occurrences found" } },
    ]);
    assert.deepEqual(ofKind(events, "file_change"), [
      { kind: "file_change", changes: [{ path: "/w/new.txt", change: "write" }] },
      { kind: "file_change", changes: [{ path: "/w/a.txt", change: "update" }] },
      { kind: "file_change", changes: [{ path: "/w/b.txt", change: "update" }] },
    ]);
  });

  it("says a failed run once when the error line already said why", () => {
    const events = parseLines("gemini", [
      { type: "init", session_id: "s", model: "m" },
      { type: "error", severity: "error", message: "[API Error: got status: 429 Too Many Requests. Please retry in 41.5s]" },
      { type: "result", status: "error", error: { type: "Error", message: "got status: 429 Too Many Requests. Please retry in 41.5s" }, stats: {} },
    ]);
    assert.deepEqual(ofKind(events, "error"), [{ kind: "error", message: "[API Error: got status: 429 Too Many Requests. Please retry in 41.5s]", rateLimited: true, retryAt: "2026-01-15T12:00:41.500Z" }]);
    assert.deepEqual(events.at(-1), { kind: "turn_completed", isError: true });
  });
});
