import type { AgentEvent, AgentStreamParser } from "../../core/agent-event.js";
import { parseJsonLines, rawJson } from "./bounded.js";
import { createProtocolParser } from "./codex-protocol.js";
import { changeKind, growth, noTokens, totalsOf, usageOf, type Totals } from "./codex-shared.js";
import { asArray, asId, asNumber, asObject, asString, outputText, type Json } from "./fields.js";
import { clockOf, type ParserOptions } from "./options.js";
import { errorEvent } from "./rate-limit.js";

/** Token totals of a Codex thread, as its turn.completed lines report them. */
export interface CodexTotals {
  inputTokens: number;
  cachedInputTokens: number;
  outputTokens: number;
  cacheWriteInputTokens?: number;
}

export interface CodexParserOptions extends ParserOptions {
  /**
   * The thread's totals when this process started, for `codex exec resume`: the last
   * turn.completed usage of the earlier runs, or rebuilt from their usage events (input = inputTokens
   * + cacheReadTokens + cacheWriteTokens, cached = cacheReadTokens). turn.completed reports totals
   * for the whole thread, so without them the first turn of a resumed thread is charged with every
   * earlier turn again.
   */
  threadTotals?: CodexTotals;
}

const messageItemKinds = new Set(["agent_message", "assistant_message", "reasoning", "plan"]);

/**
 * Parses `codex exec --json`, in each of the shapes it has had:
 *
 *  1. Up to about 0.39: every protocol event as `{"id","msg":{"type",…}}`, after a config summary
 *     line (`{"model","sandbox",…}`, nothing emitted) and `{"prompt"}` (user_prompt).
 *     session_configured → session_started; agent_message → assistant_message; agent_reasoning →
 *     reasoning; exec_command_begin/end → tool_call/tool_result (`exec_command`);
 *     patch_apply_begin/end → tool_call/tool_result (`apply_patch`) and file_change when it succeeded;
 *     mcp_tool_call_begin/end, web_search_begin/end, plan_update → tool_call/tool_result;
 *     token_count → usage (last_token_usage, or the growth of total_token_usage, or the flat
 *     per-request counts of the oldest versions); error, stream_error → error; task_complete →
 *     turn_completed; turn_aborted → error and turn_completed. Deltas are not emitted: the
 *     complete message follows them.
 *  2. About 0.40-0.43: `session.created {session_id}` and `item.*` with `assistant_message` items.
 *  3. Since about 0.44 (docs/exec.md): `thread.started {thread_id}` (the only line naming the
 *     thread), `turn.started`, `item.started/updated/completed {item}`, `turn.completed {usage}`,
 *     `turn.failed {error}` (error, unless the error line before said the same, and turn_completed),
 *     `error {message}`. Items: agent_message → assistant_message, reasoning → reasoning (when
 *     completed; a started one, which no version printed, stays raw); command_execution → tool_call (`exec_command`) at its start and
 *     tool_result at its end; file_change → tool_call (`apply_patch`), tool_result and, unless
 *     it failed, file_change; mcp_tool_call (`server.tool`), web_search, collab_tool_call →
 *     tool_call/tool_result; todo_list → tool_call (`todo_list`) each time the list changes;
 *     error → error. turn.completed usage is the thread's running total: emitted as the growth
 *     since the last one (see CodexParserOptions.threadTotals).
 *
 * Usage: OpenAI counts cached input inside input_tokens; inputTokens here is the uncached part,
 * cacheReadTokens the cached one (cache_write_input_tokens, where reported, is taken out too).
 */
export function createCodexParser(options: CodexParserOptions = {}): AgentStreamParser {
  const now = clockOf(options);
  let started = false;
  const t = options.threadTotals;
  let totals: Totals = t ? { input: t.inputTokens, cached: t.cachedInputTokens, cacheWrite: t.cacheWriteInputTokens ?? 0, output: t.outputTokens } : noTokens;
  const startedItems = new Set<string>();
  const todoLists = new Map<string, string>();
  let lastError: string | undefined;

  function error(message: string): AgentEvent {
    lastError = message;
    return errorEvent(message, now());
  }

  // A second line naming a thread, or one naming none, is kept raw: only the first id is the session's.
  function session(line: string, v: Json, id: string | undefined, model?: string): AgentEvent[] {
    if (started || !id) return [rawJson(line, v)];
    started = true;
    return [{ kind: "session_started", nativeId: id, ...(model ? { model } : {}) }];
  }

  const protocol = createProtocolParser({ session, error });

  // ---- shape 3 (and 2): thread and item events ----

  function item(phase: "started" | "updated" | "completed", it: Json, line: string, v: Json): AgentEvent[] {
    const type = asString(it.type) ?? "";
    const id = asId(it.id);
    const callId = id ? { callId: id } : {};
    const once = (name: string, input: unknown): AgentEvent[] => {
      if (id && startedItems.has(id)) return [];
      if (id) startedItems.add(id);
      return [{ kind: "tool_call", ...callId, name, input }];
    };
    if (messageItemKinds.has(type)) {
      // Codex prints these only once complete; a started or updated one is another version's.
      if (phase !== "completed") return [rawJson(line, v)];
      const text = asString(it.text) ?? "";
      return [{ kind: type === "reasoning" ? "reasoning" : "assistant_message", text }];
    }
    switch (type) {
      case "command_execution": {
        const call = once("exec_command", { command: asString(it.command) ?? "" });
        if (phase !== "completed") return call;
        const status = asString(it.status);
        const exitCode = asNumber(it.exit_code);
        const isError = status === "failed" || status === "declined" || (exitCode !== undefined && exitCode !== 0);
        return [...call, { kind: "tool_result", ...callId, output: asString(it.aggregated_output) ?? "", isError }];
      }
      case "file_change": {
        const changes = asArray(it.changes).flatMap((c) => {
          const path = asId(asObject(c)?.path);
          return path ? [{ path, change: changeKind(asObject(c)?.kind) }] : [];
        });
        const call = once("apply_patch", { changes });
        if (phase !== "completed") return call;
        const status = asString(it.status) ?? "completed";
        const failed = status === "failed";
        return [...call, { kind: "tool_result", ...callId, output: status, isError: failed }, ...(failed || changes.length === 0 ? [] : [{ kind: "file_change" as const, changes }])];
      }
      case "mcp_tool_call": {
        const call = once(`${asString(it.server) ?? "mcp"}.${asString(it.tool) ?? "tool"}`, it.arguments ?? {});
        if (phase !== "completed") return call;
        const error = asString(asObject(it.error)?.message);
        const output = error ?? outputText(asObject(it.result)?.content);
        return [...call, { kind: "tool_result", ...callId, output, isError: error !== undefined || it.status === "failed" }];
      }
      case "web_search": {
        const call = once("web_search", { query: asString(it.query) ?? "" });
        if (phase !== "completed") return call;
        return [...call, { kind: "tool_result", ...callId, output: it.action === undefined ? "" : outputText(it.action), isError: false }];
      }
      case "collab_tool_call": {
        const call = once(`collab.${asString(it.tool) ?? "tool"}`, { prompt: it.prompt ?? null, receiverThreadIds: it.receiver_thread_ids ?? [] });
        if (phase !== "completed") return call;
        return [...call, { kind: "tool_result", ...callId, output: outputText(it.agents_states ?? ""), isError: it.status === "failed" }];
      }
      case "todo_list": {
        const items = asArray(it.items);
        const key = JSON.stringify(items);
        if (id && todoLists.get(id) === key) return [];
        if (id) todoLists.set(id, key);
        return [{ kind: "tool_call", ...callId, name: "todo_list", input: { items } }];
      }
      case "error":
        return phase === "completed" ? [error(asString(it.message) ?? "error")] : [];
      default:
        return [rawJson(line, v)];
    }
  }

  function threadEvent(type: string, v: Json, line: string): AgentEvent[] {
    switch (type) {
      case "thread.started":
        return session(line, v, asId(v.thread_id));
      case "session.created":
        return session(line, v, asId(v.session_id));
      case "turn.started":
      case "item.plan.delta":
        return [];
      case "turn.completed": {
        const u = asObject(v.usage);
        const out: AgentEvent[] = [];
        if (u) {
          const current = totalsOf(u);
          out.push(...usageOf(growth(totals, current)));
          totals = current;
        }
        out.push({ kind: "turn_completed", isError: false });
        return out;
      }
      case "turn.failed": {
        const message = asString(asObject(v.error)?.message) ?? asString(v.message) ?? "the turn failed";
        // The error that failed the turn has usually just been printed as an error line.
        return [...(lastError?.includes(message) ? [] : [error(message)]), { kind: "turn_completed", isError: true }];
      }
      case "error":
        return [error(asString(v.message) ?? "error")];
      case "item.started":
      case "item.updated":
      case "item.completed": {
        const it = asObject(v.item);
        return it ? item(type.slice(5) as "started" | "updated" | "completed", it, line, v) : [rawJson(line, v)];
      }
      default:
        return [rawJson(line, v)];
    }
  }

  return parseJsonLines({
    object(v, line) {
      const type = asString(v.type);
      if (type !== undefined) return threadEvent(type, v, line);
      return protocol(v, line) ?? [rawJson(line, v)];
    },
    end: () => [],
  });
}
