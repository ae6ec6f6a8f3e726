import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AgentEvent } from "../../../src/core/agent-event.js";
import { reviewPrompt } from "../../../src/gates/review-prompt.js";
import { finalReply, parseReviewVerdict } from "../../../src/gates/review-verdict.js";

describe("reading a reviewer's verdict", () => {
  it("reads approve with the comments written before it", () => {
    assert.deepEqual(parseReviewVerdict("Looks fine.\n\n- nit: a name\nVERDICT: approve\n"), { verdict: "approve", comments: "Looks fine.\n\n- nit: a name" });
  });

  it("reads request-changes, and a verdict with no comments", () => {
    assert.deepEqual(parseReviewVerdict("The loop never ends.\r\nVERDICT: request-changes"), { verdict: "request-changes", comments: "The loop never ends." });
    assert.deepEqual(parseReviewVerdict("VERDICT: approve"), { verdict: "approve", comments: "" });
  });

  it("allows blank lines and spaces around the verdict line, nothing else", () => {
    assert.equal(parseReviewVerdict("ok\n  VERDICT: approve  \n\n \n")?.verdict, "approve");
  });

  it("reads nothing from a reply without a verdict line, or one that is not exactly the format", () => {
    for (const reply of [
      "",
      "   \n",
      "Looks good to me.",
      "VERDICT: approve\nThat is all.",
      "**VERDICT: approve**",
      "`VERDICT: approve`",
      "verdict: approve",
      "VERDICT: Approve",
      "VERDICT:approve",
      "VERDICT: approved",
      "VERDICT: approve.",
      "VERDICT: lgtm",
      "I would say VERDICT: approve",
    ]) {
      assert.equal(parseReviewVerdict(reply), undefined, JSON.stringify(reply));
    }
  });

  it("reads nothing from a reply that gives both verdicts", () => {
    assert.equal(parseReviewVerdict("VERDICT: request-changes\nactually fine\nVERDICT: approve"), undefined);
    assert.equal(parseReviewVerdict("VERDICT: approve\nbut this breaks\nVERDICT: request-changes"), undefined);
  });

  it("keeps the verdict when the same line is said twice", () => {
    assert.deepEqual(parseReviewVerdict("VERDICT: approve\nfine\nVERDICT: approve"), { verdict: "approve", comments: "VERDICT: approve\nfine" });
  });
});

describe("a reviewer's final reply", () => {
  it("is the messages after its last tool use, one per line", () => {
    const events: AgentEvent[] = [
      { kind: "session_started", nativeId: "s1" },
      { kind: "assistant_message", text: "Let me look at the file." },
      { kind: "tool_call", callId: "1", name: "Read", input: { file_path: "/x" } },
      { kind: "tool_result", callId: "1", output: "contents", isError: false },
      { kind: "assistant_message", text: "One bug." },
      { kind: "usage", inputTokens: 1, outputTokens: 1 },
      { kind: "assistant_message", text: "VERDICT: request-changes" },
      { kind: "turn_completed", isError: false, result: "VERDICT: request-changes" },
    ];
    assert.equal(finalReply(events), "One bug.\nVERDICT: request-changes");
  });

  it("is the completed turn's result when no message follows the last tool use", () => {
    assert.equal(finalReply([{ kind: "tool_result", output: "", isError: false }, { kind: "turn_completed", isError: false, result: "VERDICT: approve" }]), "VERDICT: approve");
  });

  it("is empty when the reviewer said nothing, and never a failed turn's error", () => {
    assert.equal(finalReply([]), "");
    assert.equal(finalReply([{ kind: "turn_completed", isError: true, result: "VERDICT: approve" }]), "");
  });
});

describe("the reviewer's prompt", () => {
  const subject = { repo: "app", branch: "fix/x", target: "main", base: "a".repeat(40), head: "b".repeat(40), request: "Check the tests.", diff: "+one\n", cut: undefined };

  it("holds the diff, the gate's request and the verdict format, in that order, the format last", () => {
    const prompt = reviewPrompt(subject);
    assert.ok(prompt.indexOf("+one") < prompt.indexOf("Check the tests.") && prompt.indexOf("Check the tests.") < prompt.indexOf("VERDICT: approve"));
    assert.ok(prompt.trimEnd().endsWith("VERDICT: approve\nVERDICT: request-changes"));
    assert.match(prompt, /do not edit/);
  });

  it("fences a diff with a longer run of backticks than the diff holds", () => {
    const prompt = reviewPrompt({ ...subject, diff: "+```js\n+x\n+````\n" });
    assert.match(prompt, /\n`````diff\n\+```js/);
  });

  it("says when the diff was cut and how big the whole change is", () => {
    const prompt = reviewPrompt({ ...subject, cut: { shortstat: "3 files changed, 9000 insertions(+)" } });
    assert.match(prompt, /cut after 5 B; the whole change is 3 files changed, 9000 insertions\(\+\)/);
  });
});
