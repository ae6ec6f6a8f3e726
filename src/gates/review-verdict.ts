import type { AgentEvent } from "../core/agent-event.js";

/** What an agent_review reviewer decided. */
export type ReviewVerdict = "approve" | "request-changes";

/** A reply read as a review: the verdict and the comments written before it. */
export interface ReadReview {
  verdict: ReviewVerdict;
  /** Everything before the verdict line, trimmed; "" when there were none. */
  comments: string;
}

/** The line a reply must end with, as the reviewer is told (reviewPrompt). */
export const verdictLines: Record<ReviewVerdict, string> = { approve: "VERDICT: approve", "request-changes": "VERDICT: request-changes" };

const verdictLine = /^VERDICT: (approve|request-changes)$/;

/**
 * Reads a reviewer's reply strictly: its last non-blank line, without surrounding spaces, must be
 * exactly `VERDICT: approve` or `VERDICT: request-changes`, and no other line may be a verdict
 * line naming the other verdict (a reply that says both decides nothing). Anything else — no
 * verdict line, one in bold or in other words, one followed by more text — is undefined: a reply
 * that cannot be read never counts as an approval.
 */
export function parseReviewVerdict(reply: string): ReadReview | undefined {
  const lines = reply.replace(/\r\n?/g, "\n").split("\n");
  let last = lines.length - 1;
  while (last >= 0 && lines[last]!.trim() === "") last--;
  if (last < 0) return undefined;
  const match = verdictLine.exec(lines[last]!.trim());
  if (!match) return undefined;
  const verdict = match[1] as ReviewVerdict;
  const before = lines.slice(0, last);
  const other = verdictLines[verdict === "approve" ? "request-changes" : "approve"];
  if (before.some((line) => line.trim() === other)) return undefined;
  return { verdict, comments: before.join("\n").trim() };
}

/**
 * The reviewer's final reply out of its session's events: the assistant messages after its last
 * tool call or result (what it wrote once it had finished looking), one per line. When it wrote no
 * message there, the result text of its last completed turn, if the CLI gives one (Claude Code
 * does). "" when it said nothing.
 */
export function finalReply(events: readonly AgentEvent[]): string {
  const messages: string[] = [];
  let completed: string | undefined;
  for (const event of events) {
    if (event.kind === "tool_call" || event.kind === "tool_result") messages.length = 0;
    else if (event.kind === "assistant_message") messages.push(event.text);
    else if (event.kind === "turn_completed" && !event.isError && event.result !== undefined) completed = event.result;
  }
  if (messages.length > 0) return messages.join("\n");
  return completed ?? "";
}
