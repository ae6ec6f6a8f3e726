import type { AgentEvent, FileChangeEvent } from "../../core/agent-event.js";
import { rawJson } from "./bounded.js";
import { changeKind, growth, totalsOf, usageOf, type Totals } from "./codex-shared.js";
import { asArray, asId, asNumber, asObject, asString, outputText, type Json } from "./fields.js";

/** What the protocol-event parser needs from the Codex parser around it. */
export interface ProtocolContext {
  session(line: string, v: Json, id: string | undefined, model?: string): AgentEvent[];
  error(message: string): AgentEvent;
}

/**
 * The lines of `codex exec --json` up to about 0.39 (see createCodexParser): protocol events
 * `{"id","msg":{…}}`, and before them a config summary and `{"prompt"}`. Returns undefined for a
 * line of another shape.
 */
export function createProtocolParser(ctx: ProtocolContext): (v: Json, line: string) => AgentEvent[] | undefined {
  const { session, error } = ctx;
  let oldTotals: Totals | undefined;
  const patches = new Map<string, FileChangeEvent["changes"]>();
  let lastPrompt: string | undefined;
  let turnFailed = false;

  function commandText(command: unknown): string {
    if (typeof command === "string") return command;
    return asArray(command).filter((part): part is string => typeof part === "string").join(" ");
  }

  function protocolEvent(msg: Json, line: string, v: Json): AgentEvent[] {
    const type = asString(msg.type) ?? "";
    const callId = asId(msg.call_id);
    const call = callId ? { callId } : {};
    switch (type) {
      case "session_configured":
        return session(line, v, asId(msg.session_id), asId(msg.model));
      case "task_started":
      case "turn_started":
      case "agent_message_delta":
      case "agent_reasoning_delta":
      case "agent_reasoning_raw_content":
      case "agent_reasoning_raw_content_delta":
      case "agent_reasoning_section_break":
      case "exec_command_output_delta":
      case "turn_diff":
      case "shutdown_complete":
        return [];
      case "user_message": {
        const text = asString(msg.message) ?? "";
        if (text === lastPrompt) return [];
        lastPrompt = text;
        return [{ kind: "user_prompt", text }];
      }
      case "agent_message":
        return [{ kind: "assistant_message", text: asString(msg.message) ?? "" }];
      case "agent_reasoning":
        return [{ kind: "reasoning", text: asString(msg.text) ?? "" }];
      case "exec_command_begin":
        return [{ kind: "tool_call", ...call, name: "exec_command", input: { command: commandText(msg.command), ...(asString(msg.cwd) ? { cwd: msg.cwd } : {}) } }];
      case "exec_command_end": {
        const exitCode = asNumber(msg.exit_code);
        const output = asString(msg.aggregated_output) ?? [asString(msg.stdout), asString(msg.stderr)].filter((s) => s).join("\n");
        return [{ kind: "tool_result", ...call, output, isError: exitCode !== undefined && exitCode !== 0 }];
      }
      case "patch_apply_begin": {
        const changes = Object.entries(asObject(msg.changes) ?? {}).map(([path, change]) => {
          const c = asObject(change) ?? {};
          return { path, change: changeKind(asString(c.type) ?? Object.keys(c)[0]) };
        });
        if (callId) patches.set(callId, changes);
        return [{ kind: "tool_call", ...call, name: "apply_patch", input: { changes } }];
      }
      case "patch_apply_end": {
        const success = msg.success === true;
        const changes = callId ? patches.get(callId) : undefined;
        if (callId) patches.delete(callId);
        const output = [asString(msg.stdout), asString(msg.stderr)].filter((s) => s).join("\n");
        return [{ kind: "tool_result", ...call, output, isError: !success }, ...(success && changes && changes.length > 0 ? [{ kind: "file_change" as const, changes }] : [])];
      }
      case "mcp_tool_call_begin": {
        const inv = asObject(msg.invocation) ?? {};
        return [{ kind: "tool_call", ...call, name: `${asString(inv.server) ?? "mcp"}.${asString(inv.tool) ?? "tool"}`, input: inv.arguments ?? {} }];
      }
      case "mcp_tool_call_end": {
        const result = asObject(msg.result) ?? {};
        const ok = asObject(result.Ok);
        const err = result.Err;
        const output = ok ? outputText(ok.content) : err !== undefined ? outputText(err) : outputText(msg.result);
        return [{ kind: "tool_result", ...call, output, isError: err !== undefined || ok?.isError === true }];
      }
      case "web_search_begin":
        return [{ kind: "tool_call", ...call, name: "web_search", input: { query: asString(msg.query) ?? "" } }];
      case "web_search_end":
        return [{ kind: "tool_result", ...call, output: asString(msg.query) ?? "", isError: false }];
      case "plan_update":
        return [{ kind: "tool_call", name: "update_plan", input: { explanation: msg.explanation ?? null, plan: msg.plan ?? [] } }];
      case "token_count": {
        const info = asObject(msg.info);
        const last = asObject(info?.last_token_usage);
        if (last) {
          const total = asObject(info?.total_token_usage);
          if (total) oldTotals = totalsOf(total);
          return usageOf(totalsOf(last));
        }
        const total = asObject(info?.total_token_usage);
        if (total) {
          const current = totalsOf(total);
          const delta = growth(oldTotals, current);
          oldTotals = current;
          return usageOf(delta);
        }
        // The oldest versions: the counts of one request, flat in msg; info null: nothing to count.
        return "input_tokens" in msg || "output_tokens" in msg ? usageOf(totalsOf(msg)) : [];
      }
      case "error":
      case "stream_error":
        if (type === "error") turnFailed = true;
        return [error(asString(msg.message) ?? type)];
      case "task_complete": {
        const result = asString(msg.last_agent_message);
        const isError = turnFailed;
        turnFailed = false;
        return [{ kind: "turn_completed", isError, ...(result !== undefined ? { result } : {}) }];
      }
      case "turn_aborted":
        turnFailed = false;
        return [error(`turn aborted: ${asString(msg.reason) ?? "unknown reason"}`), { kind: "turn_completed", isError: true }];
      default:
        return [rawJson(line, v)];
    }
  }


  return (v, line) => {
    const msg = asObject(v.msg);
    if (msg && typeof msg.type === "string") return protocolEvent(msg, line, v);
    if (typeof v.prompt === "string") {
      lastPrompt = v.prompt;
      return [{ kind: "user_prompt", text: v.prompt }];
    }
    // The config summary printed first ({"model","sandbox","workdir",…}).
    if (typeof v.model === "string" || typeof v.workdir === "string" || typeof v.sandbox === "string") return [];
    return undefined;
  };
}
