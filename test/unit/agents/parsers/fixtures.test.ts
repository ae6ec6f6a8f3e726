// Every recorded or collected stream under test/fixtures/agent-streams/<kind>/ is held to the
// invariants below, whoever added it (the recorded-<version>-<scenario>.jsonl files of real runs
// included); a file with a <name>.expected.json beside it must also yield what that file says.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { basename } from "node:path";
import { describe, it } from "node:test";
import { maxEventTextChars } from "../../../../src/agents/parsers/index.js";
import { agentKinds, type AgentEvent, type AgentKind } from "../../../../src/core/agent-event.js";
import { ofKind, parseFile, streamFiles, usageTotals, type ParsedStream } from "../../../helpers/agent-streams.js";

type Json = Record<string, unknown>;

// Lines a parser may answer with no event, because their content reaches another event (merged
// deltas, usage summed per message) or says nothing (a step or turn starting). Any other line
// must yield at least one event: an unknown one a raw event, so nothing is dropped unseen.
const codexQuiet = new Set([
  "task_started", "turn_started", "agent_message_delta", "agent_reasoning_delta", "agent_reasoning_raw_content",
  "agent_reasoning_raw_content_delta", "agent_reasoning_section_break", "exec_command_output_delta", "turn_diff",
  "shutdown_complete", "token_count", "user_message",
]);
const mayBeQuiet: Record<AgentKind, (line: Json) => boolean> = {
  claude: (o) => o.type === "assistant" || o.type === "user" || o.type === "stream_event",
  codex: (o) => {
    const msg = o.msg as Json | undefined;
    if (msg && typeof msg === "object") return codexQuiet.has(String(msg.type));
    if (o.type === undefined) return typeof o.model === "string" || typeof o.workdir === "string" || typeof o.sandbox === "string";
    const item = o.item as Json | undefined;
    return o.type === "turn.started" || o.type === "item.plan.delta" || o.type === "item.updated" || (typeof o.type === "string" && o.type.startsWith("item.") && item?.type === "todo_list");
  },
  gemini: (o) => o.type === "message" && o.role === "assistant" && o.delta === true,
  opencode: (o) => o.type === "step_start" || o.type === "step_finish" || o.type === "done",
  cursor: (o) => o.type === "assistant" || o.type === "thinking",
  command: () => false,
};

function jsonObject(text: string): Json | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Json) : undefined;
  } catch {
    return undefined;
  }
}

const isText = (v: unknown) => typeof v === "string" && v.length <= maxEventTextChars + 64;
const isCount = (v: unknown) => typeof v === "number" && Number.isInteger(v) && v >= 0;
const isOptional = (v: unknown, check: (v: unknown) => boolean) => v === undefined || check(v);

/** What is wrong with an event's shape, if anything. */
function problemsOf(e: AgentEvent): string[] {
  const p: string[] = [];
  const need = (ok: boolean, what: string) => ok || p.push(`${e.kind}: ${what}`);
  switch (e.kind) {
    case "session_started":
      need(isText(e.nativeId) && e.nativeId.trim() !== "", "nativeId is a non-empty string");
      need(isOptional(e.model, isText), "model is text");
      break;
    case "user_prompt":
    case "assistant_message":
    case "reasoning":
      need(isText(e.text), "text is bounded text");
      break;
    case "tool_call":
      need(isText(e.name) && e.name !== "", "name is text");
      need(isOptional(e.callId, isText), "callId is text");
      need(e.input !== undefined && JSON.stringify(e.input).length <= maxEventTextChars + 256, "input is bounded JSON");
      break;
    case "tool_result":
      need(isText(e.output), "output is bounded text");
      need(typeof e.isError === "boolean", "isError is boolean");
      break;
    case "file_change":
      need(e.changes.length > 0 && e.changes.every((c) => isText(c.path) && c.path !== "" && ["add", "update", "delete", "write"].includes(c.change)), "changes are paths with add/update/delete/write");
      break;
    case "usage":
      need([e.inputTokens, e.outputTokens].every(isCount) && isOptional(e.cacheReadTokens, isCount) && isOptional(e.cacheWriteTokens, isCount), "token counts are whole numbers ≥ 0");
      need(isOptional(e.costUsd, (v) => typeof v === "number" && v >= 0), "costUsd ≥ 0");
      break;
    case "turn_completed":
      need(typeof e.isError === "boolean", "isError is boolean");
      need(isOptional(e.result, isText), "result is bounded text");
      break;
    case "error":
      need(isText(e.message), "message is bounded text");
      need(isOptional(e.retryAt, (v) => typeof v === "string" && !Number.isNaN(Date.parse(v))), "retryAt is a time");
      break;
    case "raw":
      need(isText(e.text) && (e.stream === "stdout" || e.stream === "stderr"), "text is bounded, stream named");
      break;
    default:
      p.push(`unknown kind ${(e as { kind: string }).kind}`);
  }
  return p;
}

/** The first session id the stream names (Claude, Gemini, Cursor, Codex's thread, OpenCode's). */
function firstNamedSession(parsed: ParsedStream): string | undefined {
  for (const { text } of parsed.lines) {
    const id = /"(?:session_id|thread_id|sessionID)"\s*:\s*"([^"]+)"/.exec(text)?.[1];
    if (id && id.trim() !== "") return id;
  }
  return undefined;
}

function checkInvariants(kind: AgentKind, parsed: ParsedStream, realSession: boolean): void {
  for (const event of parsed.events) assert.deepEqual(problemsOf(event), [], JSON.stringify(event).slice(0, 300));
  assert.doesNotThrow(() => JSON.stringify(parsed.events));

  parsed.lines.forEach(({ text, events }, i) => {
    if (text.trim() === "" && kind !== "command") return;
    if (events.length > 0) return;
    const json = jsonObject(text.trim());
    assert.ok(json !== undefined && mayBeQuiet[kind](json), `line ${i + 1} yielded no event: ${text.slice(0, 200)}`);
  });

  const sessions = ofKind(parsed.events, "session_started");
  assert.ok(sessions.length <= 1, `${sessions.length} session_started events`);
  if (realSession) {
    const named = firstNamedSession(parsed);
    if (named !== undefined) assert.deepEqual(sessions.map((s) => s.nativeId), [named], "exactly one session_started, with the first id the stream names");
  }

  const totals = usageTotals(parsed.events);
  for (const [field, value] of Object.entries(totals)) assert.ok(Number.isSafeInteger(value) && value >= 0, `${field} total ${value}`);
}

interface Expected {
  kinds?: string[];
  includes?: Json[];
  usage?: Partial<ReturnType<typeof usageTotals>>;
}

/** Whether every field the expected object names is equal in the event (objects compared whole). */
function matches(event: AgentEvent, expected: Json): boolean {
  return Object.entries(expected).every(([key, value]) => {
    try {
      assert.deepEqual((event as unknown as Json)[key], value);
      return true;
    } catch {
      return false;
    }
  });
}

function checkExpected(parsed: ParsedStream, expected: Expected): void {
  if (expected.kinds) assert.deepEqual(parsed.events.map((e) => e.kind), expected.kinds);
  let from = 0;
  for (const want of expected.includes ?? []) {
    const at = parsed.events.findIndex((e, i) => i >= from && matches(e, want));
    assert.ok(at >= 0, `no event (after #${from}) matching ${JSON.stringify(want)}`);
    from = at + 1;
  }
  if (expected.usage) {
    const totals = usageTotals(parsed.events);
    for (const [field, value] of Object.entries(expected.usage)) assert.equal(totals[field as keyof typeof totals], value, field);
  }
}

for (const kind of agentKinds) {
  describe(`${kind} streams in test/fixtures/agent-streams/${kind}`, () => {
    for (const file of streamFiles(kind)) {
      it(`${basename(file)} parses within the invariants${existsSync(file.replace(/\.jsonl$/, ".expected.json")) ? " and yields the expected events" : ""}`, async () => {
        const parsed = await parseFile(kind, file);
        checkInvariants(kind, parsed, kind !== "command");
        const sidecar = file.replace(/\.jsonl$/, ".expected.json");
        if (existsSync(sidecar)) checkExpected(parsed, JSON.parse(readFileSync(sidecar, "utf8")) as Expected);
      });
    }
  });
}

describe("hostile streams (test/fixtures/agent-streams/hostile) through every parser", () => {
  for (const file of streamFiles("hostile")) {
    it(`${basename(file)} is kept as events by every kind, nothing thrown`, async () => {
      for (const kind of agentKinds) {
        const parsed = await parseFile(kind, file);
        checkInvariants(kind, parsed, false);
        const nonJson = parsed.lines.filter((l) => l.text.trim() !== "" && jsonObject(l.text.trim()) === undefined);
        for (const line of nonJson) {
          const kinds = line.events.map((e) => e.kind);
          assert.ok(kinds.includes(kind === "command" ? "assistant_message" : "raw"), `${kind}: ${line.text.slice(0, 80)} → ${kinds.join(",")}`);
        }
      }
    });
  }
});
