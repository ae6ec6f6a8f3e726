import type { AgentEvent, AgentStreamParser, FileChangeEvent, UsageEvent } from "../../core/agent-event.js";
import { parseJsonLines, rawJson } from "./bounded.js";
import { asArray, asCount, asId, asNumber, asObject, asString, outputText, type Json } from "./fields.js";
import { clockOf, type ParserOptions } from "./options.js";
import { errorEvent } from "./rate-limit.js";

// Tools whose input names a file they write. Their file_change is emitted when the tool's result
// comes back without error, so a denied or failed write changes nothing.
const writingTools: Record<string, "file_path" | "notebook_path"> = { Write: "file_path", Edit: "file_path", MultiEdit: "file_path", NotebookEdit: "notebook_path" };

type Tokens = { input: number; output: number; cacheRead: number; cacheWrite: number };

/** What a Write did: tool_use_result.type says (2.x), else the result text ("File created …", "… has been updated"). */
function writeKind(type: unknown, output: string): FileChangeEvent["changes"][number]["change"] {
  if (type === "create" || (type === undefined && /^File created/.test(output))) return "add";
  if (type === "update" || (type === undefined && /has been (updated|overwritten)/.test(output))) return "update";
  return "write";
}

/**
 * Parses `claude -p --output-format stream-json --verbose` (Claude Code 1.x and 2.x).
 *
 * Lines (test/fixtures/agent-streams/README.md lists the sources):
 *   {"type":"system","subtype":"init","session_id","model",…}       → session_started (the first id seen on any line)
 *   {"type":"assistant","message":{"id","model","content":[block],"usage"},"session_id"}
 *       text → assistant_message, thinking → reasoning, tool_use → tool_call; one line per content
 *       block, the blocks of one message sharing message.id and repeating its usage: usage is merged
 *       per message id (each count's largest value) and emitted once, when a line of another message,
 *       a user or result line, or the end arrives. `is_api_error_message` lines → error.
 *   {"type":"user","message":{"content":[{"type":"tool_result","tool_use_id","content","is_error"}]},"tool_use_result"}
 *       → tool_result, then file_change for a Write/Edit/MultiEdit/NotebookEdit call that succeeded
 *       (Write: `add` or `update` as tool_use_result.type or the result text says, else `write`; the edit tools `update`);
 *       a text prompt (string content, or --replay-user-messages) → user_prompt.
 *   {"type":"result","subtype","is_error","result","num_turns","duration_ms","total_cost_usd" (0.2: "cost_usd"),"usage"}
 *       → error (when is_error or an error_* subtype) and turn_completed. Its usage is the run's
 *       total and is not emitted again.
 *   {"type":"rate_limit_event","rate_limit_info":{"status":"rejected","resetsAt"}} → error, rateLimited.
 *   {"type":"stream_event"} (--include-partial-messages) → nothing: the assistant lines repeat it whole.
 * Anything else → raw.
 */
export function createClaudeParser(options: ParserOptions = {}): AgentStreamParser {
  const now = clockOf(options);
  let started = false;
  let pending: { id: string; model?: string; tokens: Tokens } | undefined;
  const emitted = new Map<string, Tokens>();
  const writes = new Map<string, { tool: string; path: string }>();
  let lastError: string | undefined;

  function usageEvent(tokens: Tokens, model: string | undefined): UsageEvent[] {
    if (tokens.input + tokens.output + tokens.cacheRead + tokens.cacheWrite === 0) return [];
    return [{ kind: "usage", inputTokens: tokens.input, outputTokens: tokens.output, cacheReadTokens: tokens.cacheRead, cacheWriteTokens: tokens.cacheWrite, ...(model ? { model } : {}) }];
  }

  // A message id seen again after its usage went out adds only what grew since.
  function flush(): UsageEvent[] {
    if (!pending) return [];
    const { id, model, tokens } = pending;
    pending = undefined;
    const before = emitted.get(id) ?? { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
    const after = { input: Math.max(before.input, tokens.input), output: Math.max(before.output, tokens.output), cacheRead: Math.max(before.cacheRead, tokens.cacheRead), cacheWrite: Math.max(before.cacheWrite, tokens.cacheWrite) };
    emitted.set(id, after);
    return usageEvent({ input: after.input - before.input, output: after.output - before.output, cacheRead: after.cacheRead - before.cacheRead, cacheWrite: after.cacheWrite - before.cacheWrite }, model);
  }

  function tokensOf(usage: Json): Tokens {
    return { input: asCount(usage.input_tokens), output: asCount(usage.output_tokens), cacheRead: asCount(usage.cache_read_input_tokens), cacheWrite: asCount(usage.cache_creation_input_tokens) };
  }

  function assistant(v: Json): AgentEvent[] {
    const message = asObject(v.message) ?? {};
    const id = asId(message.id);
    const model = asId(message.model);
    const out: AgentEvent[] = pending && pending.id !== id ? flush() : [];
    const content = message.content;

    if (v.is_api_error_message === true || typeof v.error === "string") {
      // The CLI's own message standing in for the model's (model "<synthetic>"), e.g. a usage limit.
      const text = typeof content === "string" ? content : asArray(content).map((b) => asString(asObject(b)?.text) ?? "").join("\n");
      lastError = text || String(v.error);
      return [...out, errorEvent(lastError, now(), { rateLimited: v.error === "rate_limit" })];
    }

    if (typeof content === "string" && content !== "") out.push({ kind: "assistant_message", text: content });
    for (const item of asArray(content)) {
      const block = asObject(item);
      const type = asString(block?.type);
      if (!block || !type) {
        out.push(rawJson(JSON.stringify(item) ?? "", item));
      } else if (type === "text") {
        const text = asString(block.text) ?? "";
        if (text !== "") out.push({ kind: "assistant_message", text });
      } else if (type === "thinking") {
        const text = asString(block.thinking) ?? "";
        if (text !== "") out.push({ kind: "reasoning", text });
      } else if (type === "redacted_thinking") {
        // Encrypted: nothing to show.
      } else if (type === "tool_use" || type === "server_tool_use" || type === "mcp_tool_use") {
        const callId = asId(block.id);
        const name = asString(block.name) ?? type;
        out.push({ kind: "tool_call", ...(callId ? { callId } : {}), name, input: block.input ?? {} });
        const field = writingTools[name];
        const path = field ? asId(asObject(block.input)?.[field]) : undefined;
        if (callId && path) writes.set(callId, { tool: name, path });
      } else {
        out.push(rawJson(JSON.stringify(block), block));
      }
    }

    const usage = asObject(message.usage);
    if (usage && model !== "<synthetic>") {
      const tokens = tokensOf(usage);
      if (!id) return [...out, ...usageEvent(tokens, model)];
      if (pending?.id === id) {
        const t = pending.tokens;
        pending.tokens = { input: Math.max(t.input, tokens.input), output: Math.max(t.output, tokens.output), cacheRead: Math.max(t.cacheRead, tokens.cacheRead), cacheWrite: Math.max(t.cacheWrite, tokens.cacheWrite) };
      } else {
        pending = { id, ...(model ? { model } : {}), tokens };
      }
    }
    return out;
  }

  function user(v: Json): AgentEvent[] {
    const out: AgentEvent[] = flush();
    const content = asObject(v.message)?.content;
    if (typeof content === "string") {
      if (content !== "") out.push({ kind: "user_prompt", text: content });
      return out;
    }
    const blocks = asArray(content);
    const results = blocks.filter((b) => asObject(b)?.type === "tool_result").length;
    const changes: FileChangeEvent["changes"] = [];
    for (const item of blocks) {
      const block = asObject(item);
      const type = asString(block?.type);
      if (block && type === "tool_result") {
        const callId = asId(block.tool_use_id);
        const output = outputText(block.content);
        const isError = block.is_error === true;
        out.push({ kind: "tool_result", ...(callId ? { callId } : {}), output, isError });
        const write = callId ? writes.get(callId) : undefined;
        if (write && !isError) {
          // tool_use_result describes the line's result only when the line has just one.
          const detail = results === 1 ? asObject(v.tool_use_result) : undefined;
          changes.push({ path: write.path, change: write.tool === "Write" ? writeKind(detail?.type, output) : "update" });
        }
      } else if (block && type === "text") {
        const text = asString(block.text) ?? "";
        if (text !== "") out.push({ kind: "user_prompt", text });
      } else {
        out.push(rawJson(JSON.stringify(item) ?? "", item));
      }
    }
    if (changes.length > 0) out.push({ kind: "file_change", changes });
    return out;
  }

  function result(v: Json): AgentEvent[] {
    const out: AgentEvent[] = flush();
    const subtype = asString(v.subtype) ?? "";
    const isError = v.is_error === true || subtype.startsWith("error");
    const text = asString(v.result);
    if (isError) {
      const errors = asArray(v.errors).filter((e): e is string => typeof e === "string" && e !== "");
      const message = text || errors.join("; ") || subtype || "the run failed";
      // The CLI repeats its synthetic error message as the result: said once is enough.
      if (message !== lastError) out.push(errorEvent(message, now(), { status: asNumber(v.api_error_status) }));
    }
    const numTurns = asNumber(v.num_turns);
    const durationMs = asNumber(v.duration_ms);
    // Versions before 1.0 called it cost_usd.
    const totalCostUsd = asNumber(v.total_cost_usd) ?? asNumber(v.cost_usd);
    out.push({
      kind: "turn_completed",
      isError,
      ...(text !== undefined ? { result: text } : {}),
      ...(numTurns !== undefined ? { numTurns } : {}),
      ...(durationMs !== undefined ? { durationMs } : {}),
      ...(totalCostUsd !== undefined ? { totalCostUsd } : {}),
    });
    return out;
  }

  return parseJsonLines({
    object(v, line) {
      const type = asString(v.type);
      const sessionId = asId(v.session_id) ?? asId(v.sessionId);
      const first: AgentEvent[] = [];
      if (!started && sessionId) {
        started = true;
        const model = asId(v.model) ?? asId(asObject(v.message)?.model);
        first.push({ kind: "session_started", nativeId: sessionId, ...(model && model !== "<synthetic>" ? { model } : {}) });
        if (type === "system" && v.subtype === "init") return first;
      }
      switch (type) {
        case "assistant":
          return [...first, ...assistant(v)];
        case "user":
          return [...first, ...user(v)];
        case "result":
          return [...first, ...result(v)];
        case "stream_event":
          return first;
        case "rate_limit_event": {
          const info = asObject(v.rate_limit_info) ?? {};
          if (info.status !== "rejected") return [...first, rawJson(line, v)];
          const window = asString(info.rateLimitType);
          return [...first, ...flush(), errorEvent(`rate limit reached${window ? ` (${window})` : ""}`, now(), { rateLimited: true, resetsAt: info.resetsAt })];
        }
        default:
          return [...first, rawJson(line, v)];
      }
    },
    end: () => flush(),
  });
}
