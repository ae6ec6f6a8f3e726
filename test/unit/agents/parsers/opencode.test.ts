import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ofKind, parseLines } from "../../../helpers/agent-streams.js";

const line = (type: string, rest: object = {}) => ({ type, timestamp: 1, sessionID: "ses_1", ...rest });
const finish = (reason: string, tokens: object = {}) => line("step_finish", { part: { type: "step-finish", reason, tokens, cost: 0 } });

describe("the OpenCode run --format json parser", () => {
  it("names the session once though every line carries it", () => {
    const events = parseLines("opencode", [line("step_start", { part: {} }), line("text", { part: { text: "hi" } }), finish("stop")]);
    assert.deepEqual(ofKind(events, "session_started"), [{ kind: "session_started", nativeId: "ses_1" }]);
  });

  it("ends the run at the step that finishes with stop, once, even when done follows", () => {
    const events = parseLines("opencode", [finish("tool-calls"), finish("stop"), line("done", { reason: "idle", rejected: [] })]);
    assert.deepEqual(ofKind(events, "turn_completed"), [{ kind: "turn_completed", isError: false }]);
  });

  it("ends the run at done when no step said stop, as an error after an error line", () => {
    const events = parseLines("opencode", [line("error", { error: { name: "ProviderAuthError", data: { providerID: "x", message: "invalid key" } } }), line("done", { reason: "idle" })]);
    assert.deepEqual(events.slice(1), [{ kind: "error", message: "invalid key" }, { kind: "turn_completed", isError: true }]);
  });

  it("counts reasoning tokens as output and keeps the step's cost", () => {
    const events = parseLines("opencode", [finish("tool-calls", { input: 10, output: 5, reasoning: 7, cache: { read: 100, write: 3 } })]);
    assert.deepEqual(ofKind(events, "usage"), [{ kind: "usage", inputTokens: 10, outputTokens: 12, cacheReadTokens: 100, cacheWriteTokens: 3, costUsd: 0 }]);
  });

  it("emits a completed tool as its call and its result, and a failed one as an error result without a file change", () => {
    const tool = (status: string, state: object) => line("tool_use", { part: { type: "tool", tool: "edit", callID: "c1", state: { status, input: { filePath: "/w/a.txt" }, ...state } } });
    const failed = parseLines("opencode", [tool("error", { error: "oldString not found" })]);
    assert.deepEqual(failed.slice(1), [
      { kind: "tool_call", callId: "c1", name: "edit", input: { filePath: "/w/a.txt" } },
      { kind: "tool_result", callId: "c1", output: "oldString not found", isError: true },
    ]);
    const done = parseLines("opencode", [tool("completed", { output: "" })]);
    assert.deepEqual(ofKind(done, "file_change"), [{ kind: "file_change", changes: [{ path: "/w/a.txt", change: "update" }] }]);
  });
});
