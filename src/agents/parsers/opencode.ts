import type { AgentEvent, AgentStreamParser } from "../../core/agent-event.js";
import { parseJsonLines, rawJson } from "./bounded.js";
import { asCount, asId, asNumber, asObject, asString, outputText } from "./fields.js";
import { clockOf, type ParserOptions } from "./options.js";
import { errorEvent } from "./rate-limit.js";

// Finish reasons after which the session's loop stops (the AI SDK's finishReason); `tool-calls`
// means another step follows.
const finalReasons = new Set(["stop", "length", "content-filter", "error"]);

/**
 * Parses `opencode run --format json` (OpenCode 0.x-1.x, packages/opencode/src/cli/cmd/run.ts):
 * every line is `{"type","timestamp","sessionID",…}`; there is no init line and, before `done`
 * was added, no final one.
 *
 *   sessionID (first line that has one)        → session_started
 *   step_start                                 → nothing
 *   text {part.text}                           → assistant_message
 *   reasoning {part.text}                      → reasoning
 *   tool_use {part.tool, part.callID, part.state {status, input, output, error, metadata}}
 *       (printed once the tool completed or failed) → tool_call and tool_result; file_change for a
 *       write (`add` or `update` as metadata.exists says, else `write`) or edit (`update`) that completed
 *   step_finish {part.reason, part.tokens {input, output, reasoning, cache {read, write}}, part.cost}
 *       → usage (reasoning tokens count as output; input excludes the cache, as OpenCode reports it);
 *       a final reason (stop, length, content-filter, error) ends the run: turn_completed, once,
 *       an error unless the reason is stop
 *   error {error {name, data {message, statusCode}}} → error
 *   done                                       → turn_completed if no step_finish ended the run
 * Anything else → raw.
 */
export function createOpenCodeParser(options: ParserOptions = {}): AgentStreamParser {
  const now = clockOf(options);
  let started = false;
  let completed = false;
  let failed = false;
  let lastText: string | undefined;

  function turnCompleted(isError: boolean): AgentEvent[] {
    if (completed) return [];
    completed = true;
    return [{ kind: "turn_completed", isError: isError || failed, ...(lastText !== undefined ? { result: lastText } : {}) }];
  }

  function object(v: Record<string, unknown>, line: string): AgentEvent[] {
    const out: AgentEvent[] = [];
    const part = asObject(v.part) ?? {};
    const sessionId = asId(v.sessionID) ?? asId(part.sessionID);
    if (!started && sessionId) {
      started = true;
      out.push({ kind: "session_started", nativeId: sessionId });
    }
    switch (asString(v.type)) {
      case "step_start":
        return out;
      case "text": {
        const text = asString(part.text) ?? "";
        lastText = text;
        return [...out, { kind: "assistant_message", text }];
      }
      case "reasoning":
        return [...out, { kind: "reasoning", text: asString(part.text) ?? "" }];
      case "tool_use": {
        const state = asObject(part.state) ?? {};
        const callId = asId(part.callID) ?? asId(part.id);
        const call = callId ? { callId } : {};
        const name = asString(part.tool) ?? "tool";
        const input = asObject(state.input) ?? {};
        out.push({ kind: "tool_call", ...call, name, input });
        const status = asString(state.status);
        if (status !== "completed" && status !== "error") return out;
        const isError = status === "error";
        out.push({ kind: "tool_result", ...call, output: isError ? outputText(state.error) : outputText(state.output), isError });
        const path = asId(input.filePath) ?? asId(asObject(state.metadata)?.filepath);
        if (!isError && path && (name === "write" || name === "edit")) {
          const existed = asObject(state.metadata)?.exists;
          const change = name === "edit" ? "update" : existed === false ? "add" : existed === true ? "update" : "write";
          out.push({ kind: "file_change", changes: [{ path, change }] });
        }
        return out;
      }
      case "step_finish": {
        const tokens = asObject(part.tokens) ?? {};
        const cache = asObject(tokens.cache) ?? {};
        const input = asCount(tokens.input);
        const output = asCount(tokens.output) + asCount(tokens.reasoning);
        const cacheRead = asCount(cache.read);
        const cacheWrite = asCount(cache.write);
        const costUsd = asNumber(part.cost);
        if (input + output + cacheRead + cacheWrite > 0 || (costUsd ?? 0) > 0) {
          out.push({ kind: "usage", inputTokens: input, outputTokens: output, cacheReadTokens: cacheRead, cacheWriteTokens: cacheWrite, ...(costUsd !== undefined ? { costUsd } : {}) });
        }
        const reason = asString(part.reason);
        if (reason !== undefined && finalReasons.has(reason)) out.push(...turnCompleted(reason !== "stop"));
        return out;
      }
      case "error": {
        failed = true;
        const error = asObject(v.error) ?? {};
        const data = asObject(error.data) ?? {};
        const message = asString(data.message) ?? asString(error.message) ?? asString(error.name) ?? outputText(v.error);
        const status = asNumber(data.statusCode);
        return [...out, errorEvent(message, now(), status !== undefined ? { status } : {})];
      }
      case "done":
        return [...out, ...turnCompleted(false)];
      default:
        return [...out, rawJson(line, v)];
    }
  }

  return parseJsonLines({ object, end: () => [] });
}
