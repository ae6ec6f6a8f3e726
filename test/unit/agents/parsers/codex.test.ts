import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parserFor } from "../../../../src/agents/parsers/index.js";
import type { AgentEvent } from "../../../../src/core/agent-event.js";
import { ofKind, parseLines, usageTotals } from "../../../helpers/agent-streams.js";

const turn = (input: number, cached: number, output: number) => ({ type: "turn.completed", usage: { input_tokens: input, cached_input_tokens: cached, output_tokens: output } });

describe("the Codex exec --json parser", () => {
  it("turns the thread's running totals into the tokens of each turn", () => {
    const events = parseLines("codex", [{ type: "thread.started", thread_id: "th1" }, turn(1000, 800, 50), turn(2500, 2000, 90), turn(2600, 2000, 100)]);
    assert.deepEqual(ofKind(events, "usage"), [
      { kind: "usage", inputTokens: 200, outputTokens: 50, cacheReadTokens: 800, cacheWriteTokens: 0 },
      { kind: "usage", inputTokens: 300, outputTokens: 40, cacheReadTokens: 1200, cacheWriteTokens: 0 },
      { kind: "usage", inputTokens: 100, outputTokens: 10, cacheReadTokens: 0, cacheWriteTokens: 0 },
    ]);
    assert.equal(ofKind(events, "turn_completed").length, 3);
  });

  it("starts from the totals a resumed thread already had", () => {
    const parser = parserFor("codex", { threadTotals: { inputTokens: 2600, cachedInputTokens: 2000, outputTokens: 100 } });
    const events: AgentEvent[] = [{ type: "thread.started", thread_id: "th1" }, turn(3000, 2400, 120)].flatMap((l) => parser.line(JSON.stringify(l)));
    assert.deepEqual(usageTotals(events), { inputTokens: 0, outputTokens: 20, cacheReadTokens: 400, cacheWriteTokens: 0 });
  });

  it("reads totals that go down as a count that started over, never as negative tokens", () => {
    const events = parseLines("codex", [turn(5000, 0, 500), turn(300, 0, 20)]);
    assert.deepEqual(usageTotals(events), { inputTokens: 5300, outputTokens: 520, cacheReadTokens: 0, cacheWriteTokens: 0 });
  });

  it("emits a command's call once, at its start, and its result at its end", () => {
    const item = { id: "item_1", type: "command_execution", command: "bash -lc 'exit 3'", aggregated_output: "" };
    const events = parseLines("codex", [
      { type: "item.started", item: { ...item, status: "in_progress", exit_code: null } },
      { type: "item.updated", item: { ...item, status: "in_progress", aggregated_output: "partial" } },
      { type: "item.completed", item: { ...item, status: "failed", exit_code: 3, aggregated_output: "boom" } },
    ]);
    assert.deepEqual(events, [
      { kind: "tool_call", callId: "item_1", name: "exec_command", input: { command: "bash -lc 'exit 3'" } },
      { kind: "tool_result", callId: "item_1", output: "boom", isError: true },
    ]);
  });

  it("reports a file_change item's files unless the patch failed", () => {
    const done = parseLines("codex", [{ type: "item.completed", item: { id: "i", type: "file_change", changes: [{ path: "a.txt", kind: "add" }, { path: "b.txt", kind: "delete" }, { path: "c.txt", kind: "update" }], status: "completed" } }]);
    assert.deepEqual(ofKind(done, "file_change"), [{ kind: "file_change", changes: [{ path: "a.txt", change: "add" }, { path: "b.txt", change: "delete" }, { path: "c.txt", change: "update" }] }]);
    const failed = parseLines("codex", [{ type: "item.completed", item: { id: "i", type: "file_change", changes: [{ path: "a.txt", kind: "add" }], status: "failed" } }]);
    assert.deepEqual(ofKind(failed, "file_change"), []);
    assert.equal(ofKind(failed, "tool_result")[0]?.isError, true);
  });

  it("reports a todo list each time it changes, and MCP calls by server and tool", () => {
    const list = (done: boolean) => ({ id: "todo", type: "todo_list", items: [{ text: "write", completed: done }] });
    const events = parseLines("codex", [
      { type: "item.started", item: list(false) },
      { type: "item.updated", item: list(false) },
      { type: "item.updated", item: list(true) },
      { type: "item.completed", item: list(true) },
      { type: "item.completed", item: { id: "m", type: "mcp_tool_call", server: "docs", tool: "search", arguments: { q: "x" }, result: { content: [{ type: "text", text: "found" }] }, status: "completed" } },
    ]);
    assert.equal(ofKind(events, "tool_call").filter((c) => c.name === "todo_list").length, 2);
    assert.deepEqual(events.slice(-2), [
      { kind: "tool_call", callId: "m", name: "docs.search", input: { q: "x" } },
      { kind: "tool_result", callId: "m", output: "found", isError: false },
    ]);
  });

  it("reports a failed patch of the event-msg shape without a file change", () => {
    const events = parseLines("codex", [
      { id: "0", msg: { type: "patch_apply_begin", call_id: "p", auto_approved: true, changes: { "x.txt": { type: "add", content: "x" } } } },
      { id: "0", msg: { type: "patch_apply_end", call_id: "p", stdout: "", stderr: "patch rejected", success: false } },
    ]);
    assert.deepEqual(events, [
      { kind: "tool_call", callId: "p", name: "apply_patch", input: { changes: [{ path: "x.txt", change: "add" }] } },
      { kind: "tool_result", callId: "p", output: "patch rejected", isError: true },
    ]);
  });

  it("keeps a second thread.started raw: the session is the first one named", () => {
    const events = parseLines("codex", [{ type: "thread.started", thread_id: "a" }, { type: "thread.started", thread_id: "b" }]);
    assert.deepEqual(events.map((e) => e.kind), ["session_started", "raw"]);
  });
});
