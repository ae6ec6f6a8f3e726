import type { AgentEvent, AgentStreamParser } from "../../core/agent-event.js";
import { parseJsonLines, rawJson } from "./bounded.js";
import { asArray, asId, asNumber, asObject, asString, outputText, type Json } from "./fields.js";
import { clockOf, type ParserOptions } from "./options.js";
import { errorEvent } from "./rate-limit.js";

/**
 * Parses `cursor-agent -p --output-format stream-json` (Cursor's agent CLI, closed source; shapes
 * from its output-format docs and public captures, see test/fixtures/agent-streams/README.md).
 *
 *   {"type":"system","subtype":"init","session_id","model","cwd"} → session_started (the first id on any line)
 *   {"type":"user","message":{"content":[{"type":"text","text"}]}} → user_prompt
 *   {"type":"assistant","message":{"content":[{"type":"text","text"}]},"model_call_id"?,"timestamp_ms"?}
 *       → consecutive lines merged into one assistant_message, emitted when another line arrives or
 *       at the end. With --stream-partial-output the CLI prints the deltas and then repeats the
 *       text: a line equal to what is being merged, one with a model_call_id that repeats its end,
 *       and one equal to all the run's text so far are such repeats and add nothing.
 *   {"type":"thinking","subtype":"delta","text"} … {"subtype":"completed"} → one reasoning
 *   {"type":"tool_call","subtype":"started","call_id","tool_call":{"<name>ToolCall":{"args"}}} → tool_call
 *       (name without the ToolCall suffix: shell, read, write, edit, delete, ls, glob, grep, …;
 *       an MCP call by its tool's name)
 *   {"type":"tool_call","subtype":"completed",…,"result":{"success"|"failure"|…}} → tool_result;
 *       file_change for write (`write`: the stream does not say whether the file was new), edit
 *       (`update`) and delete (`delete`) that succeeded
 *   {"type":"result","subtype","is_error","result","duration_ms"} → turn_completed (error too when is_error)
 * The CLI may also end without a result line and exit 0; end() then only flushes what it holds.
 * Anything else → raw.
 */
export function createCursorParser(options: ParserOptions = {}): AgentStreamParser {
  const now = clockOf(options);
  let started = false;
  let merging: string[] = [];
  let runText = "";
  let thinking: string[] = [];

  function flushMessage(): AgentEvent[] {
    if (merging.length === 0) return [];
    const text = merging.join("");
    merging = [];
    runText += text;
    return [{ kind: "assistant_message", text }];
  }

  function flushThinking(): AgentEvent[] {
    if (thinking.length === 0) return [];
    const text = thinking.join("");
    thinking = [];
    return text === "" ? [] : [{ kind: "reasoning", text }];
  }

  const flushAll = () => [...flushThinking(), ...flushMessage()];

  function textOf(message: unknown): string {
    const content = asObject(message)?.content;
    if (typeof content === "string") return content;
    return asArray(content)
      .map((b) => asString(asObject(b)?.text) ?? "")
      .join("");
  }

  function assistant(v: Json): AgentEvent[] {
    const out = flushThinking();
    const text = textOf(v.message);
    const merged = merging.join("");
    const repeat = text === "" || (merged !== "" && text === merged) || (typeof v.model_call_id === "string" && merged.endsWith(text)) || (runText + merged !== "" && text === runText + merged);
    if (!repeat) merging.push(text);
    return out;
  }

  function toolOf(v: Json): { key: string; name: string; body: Json } {
    const call = asObject(v.tool_call) ?? {};
    const key = Object.keys(call)[0] ?? "tool";
    const body = asObject(call[key]) ?? {};
    const args = asObject(body.args) ?? {};
    if (key === "mcpToolCall") return { key, name: asString(args.toolName) ?? asString(args.name) ?? "mcp", body };
    if (key === "function") return { key, name: asString(body.name) ?? "function", body };
    return { key, name: key.replace(/ToolCall$/, ""), body };
  }

  function toolResult(v: Json, callId: string | undefined): AgentEvent[] {
    const { key, body } = toolOf(v);
    const result = asObject(body.result);
    const call = callId ? { callId } : {};
    if (!result) return [{ kind: "tool_result", ...call, output: "", isError: false }];
    const success = asObject(result.success);
    const failureKey = Object.keys(result).find((k) => k !== "success" && k !== "isBackground");
    const failure = success ? undefined : failureKey !== undefined ? result[failureKey] : undefined;
    const detail = success ?? asObject(failure) ?? {};
    const streams = [asString(detail.stdout), asString(detail.stderr)].filter((s) => s);
    const output =
      streams.length > 0 ? streams.join("\n") : detail.content !== undefined ? outputText(detail.content) : asString(detail.message) ?? asString(failure) ?? outputText(success ?? failure ?? result);
    const exitCode = asNumber(detail.exitCode);
    const isError = !success || (exitCode !== undefined && exitCode !== 0);
    const out: AgentEvent[] = [{ kind: "tool_result", ...call, output, isError }];
    const path = asId(asObject(body.args)?.path);
    if (!isError && path && (key === "writeToolCall" || key === "editToolCall" || key === "deleteToolCall")) {
      out.push({ kind: "file_change", changes: [{ path, change: key === "deleteToolCall" ? "delete" : key === "writeToolCall" ? "write" : "update" }] });
    }
    return out;
  }

  function object(v: Json, line: string): AgentEvent[] {
    const type = asString(v.type);
    const first: AgentEvent[] = [];
    const sessionId = asId(v.session_id);
    if (!started && sessionId) {
      started = true;
      const model = asId(v.model);
      first.push({ kind: "session_started", nativeId: sessionId, ...(model ? { model } : {}) });
    }
    if (type === "assistant") return [...first, ...assistant(v)];
    if (type === "thinking") {
      if (v.subtype === "delta") {
        thinking.push(asString(v.text) ?? "");
        return first;
      }
      if (v.subtype === "completed") return [...first, ...flushAll()];
    }
    const out = [...first, ...flushAll()];
    switch (type) {
      case "system":
        return v.subtype === "init" && first.length > 0 ? out : [...out, rawJson(line, v)];
      case "user": {
        const text = textOf(v.message);
        return text === "" ? [...out, rawJson(line, v)] : [...out, { kind: "user_prompt", text }];
      }
      case "tool_call": {
        const callId = asId(v.call_id);
        if (v.subtype === "started") {
          const { name, body } = toolOf(v);
          return [...out, { kind: "tool_call", ...(callId ? { callId } : {}), name, input: body.args ?? {} }];
        }
        if (v.subtype === "completed") return [...out, ...toolResult(v, callId)];
        return [...out, rawJson(line, v)];
      }
      case "result": {
        const isError = v.is_error === true || (asString(v.subtype) ?? "success").startsWith("error");
        const result = asString(v.result);
        const durationMs = asNumber(v.duration_ms);
        if (isError) out.push(errorEvent(result || asString(v.subtype) || "the run failed", now()));
        out.push({ kind: "turn_completed", isError, ...(result !== undefined ? { result } : {}), ...(durationMs !== undefined ? { durationMs } : {}) });
        return out;
      }
      default:
        return [...out, rawJson(line, v)];
    }
  }

  return parseJsonLines({ object, other: flushAll, end: flushAll });
}
