import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ofKind, parseLines, usageTotals } from "../../../helpers/agent-streams.js";

const session = "5f0c1a7e-3b2d-4c6e-9a8f-1d2e3f4a5b6c";
const assistant = (id: string, content: object[], usage: object, extra: object = {}) => ({ type: "assistant", message: { id, model: "claude-sonnet-4-5", role: "assistant", content, usage }, session_id: session, ...extra });
const toolResult = (id: string, content: string, extra: object = {}) => ({ type: "user", message: { role: "user", content: [{ type: "tool_result", tool_use_id: id, content }] }, session_id: session, ...extra });

describe("the Claude Code stream-json parser", () => {
  it("counts a message's usage once however many content-block lines repeat it", () => {
    const usage = { input_tokens: 4, cache_creation_input_tokens: 100, cache_read_input_tokens: 1000, output_tokens: 8 };
    const events = parseLines("claude", [
      assistant("msg_A", [{ type: "text", text: "Writing it." }], usage),
      assistant("msg_A", [{ type: "tool_use", id: "t1", name: "Write", input: { file_path: "/w/a.txt", content: "a" } }], usage),
      assistant("msg_A", [{ type: "tool_use", id: "t2", name: "Bash", input: { command: "ls" } }], { ...usage, output_tokens: 30 }),
      toolResult("t1", "File created successfully at: /w/a.txt"),
    ]);
    assert.deepEqual(ofKind(events, "usage"), [{ kind: "usage", inputTokens: 4, outputTokens: 30, cacheReadTokens: 1000, cacheWriteTokens: 100, model: "claude-sonnet-4-5" }]);
    assert.deepEqual(events.map((e) => e.kind), ["session_started", "assistant_message", "tool_call", "tool_call", "usage", "tool_result", "file_change"]);
  });

  it("adds only the growth when a message id comes back after its usage went out", () => {
    const events = parseLines("claude", [
      assistant("msg_A", [{ type: "text", text: "one" }], { input_tokens: 10, output_tokens: 5 }),
      assistant("msg_B", [{ type: "text", text: "two" }], { input_tokens: 3, output_tokens: 2 }),
      assistant("msg_A", [{ type: "text", text: "one more" }], { input_tokens: 10, output_tokens: 9 }),
    ]);
    assert.deepEqual(usageTotals(events), { inputTokens: 13, outputTokens: 11, cacheReadTokens: 0, cacheWriteTokens: 0 });
  });

  it("holds the last message's usage until the end when no result line comes", () => {
    const events = parseLines("claude", [assistant("msg_A", [{ type: "text", text: "cut off" }], { input_tokens: 7, output_tokens: 1 })]);
    assert.deepEqual(events.at(-1), { kind: "usage", inputTokens: 7, outputTokens: 1, cacheReadTokens: 0, cacheWriteTokens: 0, model: "claude-sonnet-4-5" });
  });

  it("reports a file written by Write as added, updated or just written as the tool result says, and nothing for a failed write", () => {
    const events = parseLines("claude", [
      assistant("m1", [{ type: "tool_use", id: "w1", name: "Write", input: { file_path: "/w/new.txt", content: "x" } }], {}),
      toolResult("w1", "File created successfully at: /w/new.txt", { tool_use_result: { type: "create", filePath: "/w/new.txt" } }),
      assistant("m2", [{ type: "tool_use", id: "w2", name: "Write", input: { file_path: "/w/old.txt", content: "y" } }], {}),
      toolResult("w2", "The file /w/old.txt has been updated.", { tool_use_result: { type: "update", filePath: "/w/old.txt" } }),
      assistant("m3", [{ type: "tool_use", id: "e1", name: "Edit", input: { file_path: "/w/old.txt", old_string: "y", new_string: "z" } }], {}),
      { type: "user", message: { role: "user", content: [{ type: "tool_result", tool_use_id: "e1", content: "String to replace not found in file.", is_error: true }] } },
      assistant("m4", [{ type: "tool_use", id: "n1", name: "NotebookEdit", input: { notebook_path: "/w/a.ipynb", new_source: "1" } }], {}),
      toolResult("n1", "Updated cell"),
      assistant("m5", [{ type: "tool_use", id: "w3", name: "Write", input: { file_path: "/w/other.txt", content: "z" } }], {}),
      toolResult("w3", "Wrote 1 line"),
    ]);
    assert.deepEqual(ofKind(events, "file_change"), [
      { kind: "file_change", changes: [{ path: "/w/new.txt", change: "add" }] },
      { kind: "file_change", changes: [{ path: "/w/old.txt", change: "update" }] },
      { kind: "file_change", changes: [{ path: "/w/a.ipynb", change: "update" }] },
      { kind: "file_change", changes: [{ path: "/w/other.txt", change: "write" }] },
    ]);
    assert.equal(ofKind(events, "tool_result").find((r) => r.callId === "e1")?.isError, true);
  });

  it("turns tool-result content blocks into text and a prompt echoed back into user_prompt", () => {
    const events = parseLines("claude", [
      { type: "user", message: { role: "user", content: "fix the typo" }, session_id: session, isReplay: true },
      { type: "user", message: { role: "user", content: [{ type: "tool_result", tool_use_id: "t", content: [{ type: "text", text: "line 1" }, { type: "image", source: {} }] }] } },
    ]);
    assert.deepEqual(events.slice(1), [
      { kind: "user_prompt", text: "fix the typo" },
      { kind: "tool_result", callId: "t", output: "line 1\n[image]", isError: false },
    ]);
  });

  it("names the session from the first line that has an id when there is no init line", () => {
    const events = parseLines("claude", [
      assistant("m1", [{ type: "text", text: "hi" }], {}),
      { type: "result", subtype: "success", is_error: false, result: "hi", session_id: "other-id" },
    ]);
    assert.deepEqual(ofKind(events, "session_started"), [{ kind: "session_started", nativeId: session, model: "claude-sonnet-4-5" }]);
  });

  it("ends a failed run with the error and an error turn: is_error, error_* subtypes and their errors", () => {
    const maxTurns = parseLines("claude", [{ type: "result", subtype: "error_max_turns", is_error: false, num_turns: 2, session_id: session, errors: [] }]);
    assert.deepEqual(maxTurns.slice(1), [{ kind: "error", message: "error_max_turns" }, { kind: "turn_completed", isError: true, numTurns: 2 }]);

    const badResume = parseLines("claude", [{ type: "result", subtype: "error_during_execution", is_error: true, session_id: session, errors: ["No conversation found with session ID: nope"] }]);
    assert.deepEqual(ofKind(badResume, "error"), [{ kind: "error", message: "No conversation found with session ID: nope" }]);
  });

  it("marks a rejected rate_limit_event and the old usage-limit result as rate limits with their reset times", () => {
    const rejected = parseLines("claude", [{ type: "rate_limit_event", rate_limit_info: { status: "rejected", resetsAt: 1790904000, rateLimitType: "seven_day" }, session_id: session }]);
    assert.deepEqual(ofKind(rejected, "error"), [{ kind: "error", message: "rate limit reached (seven_day)", rateLimited: true, retryAt: "2026-10-02T01:20:00.000Z" }]);

    const old = parseLines("claude", [{ type: "result", subtype: "success", is_error: true, result: "Claude AI usage limit reached|1755150000", session_id: session }]);
    assert.deepEqual(ofKind(old, "error"), [{ kind: "error", message: "Claude AI usage limit reached|1755150000", rateLimited: true, retryAt: "2025-08-14T05:40:00.000Z" }]);

    const allowed = parseLines("claude", [{ type: "rate_limit_event", rate_limit_info: { status: "allowed" }, session_id: session }]);
    assert.deepEqual(allowed.map((e) => e.kind), ["session_started", "raw"]);
  });

  it("does not emit the partial-message stream events the assistant lines repeat", () => {
    const events = parseLines("claude", [
      { type: "stream_event", event: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hel" } }, session_id: session },
      assistant("m1", [{ type: "text", text: "Hello" }], { input_tokens: 1, output_tokens: 1 }),
    ]);
    assert.deepEqual(ofKind(events, "assistant_message"), [{ kind: "assistant_message", text: "Hello" }]);
  });
});
