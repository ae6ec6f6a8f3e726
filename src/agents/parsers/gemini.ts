import type { AgentEvent, AgentStreamParser, FileChangeEvent } from "../../core/agent-event.js";
import { parseJsonLines, rawJson } from "./bounded.js";
import { asCount, asId, asNumber, asObject, asString, outputText } from "./fields.js";
import { clockOf, type ParserOptions } from "./options.js";
import { errorEvent } from "./rate-limit.js";

// Gemini CLI's file tools (packages/core/src/tools): write_file creates or overwrites, replace
// (and its older name edit) changes part of a file.
const writingTools = new Set(["write_file", "replace", "edit"]);

/**
 * Parses `gemini -p … --output-format stream-json` (Gemini CLI 0.9 and later; the event types are
 * packages/core/src/output/types.ts).
 *
 *   {"type":"init","session_id","model"}                       → session_started (only there)
 *   {"type":"message","role":"user","content"}                 → user_prompt
 *   {"type":"message","role":"assistant","content","delta":true}
 *       → merged, in order, into one assistant_message, emitted when any other line arrives or at
 *       the end; an assistant message without `delta` is a whole message of its own.
 *   {"type":"tool_use","tool_name","tool_id","parameters"}     → tool_call
 *   {"type":"tool_result","tool_id","status","output","error"} → tool_result, and file_change when
 *       a write_file/replace call succeeded (replace: `update`; write_file: `write`, or `add`/`update`
 *       when its output says "created"/"overwrote" — stream-json gives it only a text display)
 *   {"type":"error","severity","message"}                      → error (warnings too: the CLI says so only here)
 *   {"type":"result","status","error","stats"}                 → usage (the run's totals: stats.input
 *       is the uncached input, stats.cached the cached), error when status is "error", turn_completed
 *       (its result is the last assistant message)
 * Anything else → raw.
 */
export function createGeminiParser(options: ParserOptions = {}): AgentStreamParser {
  const now = clockOf(options);
  let started = false;
  let streamed: string[] = [];
  let lastMessage: string | undefined;
  let lastError: string | undefined;
  const writes = new Map<string, { tool: string; path: string }>();

  function flush(): AgentEvent[] {
    if (streamed.length === 0) return [];
    const text = streamed.join("");
    streamed = [];
    lastMessage = text;
    return [{ kind: "assistant_message", text }];
  }

  function object(v: Record<string, unknown>, line: string): AgentEvent[] {
    const type = asString(v.type);
    if (type === "message" && v.role === "assistant" && v.delta === true) {
      streamed.push(asString(v.content) ?? "");
      return [];
    }
    const out = flush();
    switch (type) {
      case "init": {
        const id = asId(v.session_id);
        if (started || !id) return [...out, rawJson(line, v)];
        started = true;
        const model = asId(v.model);
        return [...out, { kind: "session_started", nativeId: id, ...(model ? { model } : {}) }];
      }
      case "message": {
        const text = asString(v.content) ?? "";
        if (v.role === "user") return [...out, { kind: "user_prompt", text }];
        if (v.role === "assistant") {
          lastMessage = text;
          return [...out, { kind: "assistant_message", text }];
        }
        return [...out, rawJson(line, v)];
      }
      case "tool_use": {
        const callId = asId(v.tool_id);
        const name = asString(v.tool_name) ?? "tool";
        const path = asId(asObject(v.parameters)?.file_path);
        if (callId && path && writingTools.has(name)) writes.set(callId, { tool: name, path });
        return [...out, { kind: "tool_call", ...(callId ? { callId } : {}), name, input: v.parameters ?? {} }];
      }
      case "tool_result": {
        const callId = asId(v.tool_id);
        const isError = v.status === "error";
        const output = asString(v.output) ?? asString(asObject(v.error)?.message) ?? outputText(v.output);
        out.push({ kind: "tool_result", ...(callId ? { callId } : {}), output, isError });
        const write = callId ? writes.get(callId) : undefined;
        if (write && !isError) {
          // write_file's result has no text in stream-json (its display is a diff), so it is usually `write`.
          const change: FileChangeEvent["changes"][number]["change"] = write.tool !== "write_file" ? "update" : /created and wrote/i.test(output) ? "add" : /overwrote/i.test(output) ? "update" : "write";
          out.push({ kind: "file_change", changes: [{ path: write.path, change }] });
        }
        return out;
      }
      case "error":
        lastError = asString(v.message) ?? "error";
        return [...out, errorEvent(lastError, now())];
      case "result": {
        const stats = asObject(v.stats) ?? {};
        const cached = asCount(stats.cached);
        const input = stats.input !== undefined ? asCount(stats.input) : Math.max(0, asCount(stats.input_tokens) - cached);
        const output = asCount(stats.output_tokens);
        if (input + cached + output > 0) out.push({ kind: "usage", inputTokens: input, outputTokens: output, cacheReadTokens: cached });
        const isError = v.status === "error";
        if (isError) {
          const error = asObject(v.error);
          const message = asString(error?.message) ?? asString(error?.type) ?? "the run failed";
          // The error that ended the run has usually just been printed as an error line.
          if (!lastError?.includes(message)) out.push(errorEvent(message, now()));
        }
        const durationMs = asNumber(stats.duration_ms);
        out.push({ kind: "turn_completed", isError, ...(lastMessage !== undefined ? { result: lastMessage } : {}), ...(durationMs !== undefined ? { durationMs } : {}) });
        return out;
      }
      default:
        return [...out, rawJson(line, v)];
    }
  }

  return parseJsonLines({ object, other: flush, end: flush });
}
