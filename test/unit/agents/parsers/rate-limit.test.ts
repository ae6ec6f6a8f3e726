import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { errorEvent, isRateLimitMessage } from "../../../../src/agents/parsers/rate-limit.js";

const now = new Date("2026-01-15T12:00:00.000Z");
// Reset times are read only from rate-limit errors; the hint makes every message one here.
const retryAt = (message: string) => errorEvent(message, now, { rateLimited: true }).retryAt;

describe("rate-limit and quota errors", () => {
  it("recognises the wording of each CLI and of the providers, and not other errors", () => {
    for (const message of [
      "Claude AI usage limit reached|1755150000",
      "5-hour limit reached ∙ resets 3pm",
      "You've hit your session limit · resets 9am (Europe/Berlin)",
      "Weekly limit reached · resets Aug 20",
      "You've hit your usage limit. Upgrade to Pro (https://chatgpt.com/explore/pro), or try again at 3:42 PM.",
      "exceeded retry limit, last status: 429 Too Many Requests",
      "API Error: Request rejected (429) · The usage limit has been reached",
      "Quota exceeded for quota metric 'Gemini 2.5 Pro Requests' and limit 'Gemini 2.5 Pro Requests per day per user per tier'",
      "You have exhausted your capacity on this model. Your quota will reset after 2h7m23s.",
      "[API Error: got status: 429 Too Many Requests. Please retry in 41.5s]",
      "RESOURCE_EXHAUSTED",
      "Rate limit reached for requests",
    ]) {
      assert.equal(isRateLimitMessage(message), true, message);
    }
    for (const message of [
      "Invalid API key · Please run /login",
      "context limit reached: conversation too long",
      "Found 429 files",
      'API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
      "unexpected status 401 Unauthorized",
    ]) {
      assert.equal(isRateLimitMessage(message), false, message);
    }
  });

  it("takes a reset time given as an epoch, an ISO time or a field", () => {
    assert.equal(retryAt("Claude AI usage limit reached|1755150000"), "2025-08-14T05:40:00.000Z");
    assert.equal(retryAt('429 {"error":{"type":"usage_limit_reached","resets_at":1773113950}}'), "2026-03-10T03:39:10.000Z");
    assert.equal(retryAt("quota exceeded, resets at 2026-01-16T00:00:00Z"), "2026-01-16T00:00:00.000Z");
    assert.equal(errorEvent("rate limit", now, { resetsAt: 1768478400 }).retryAt, "2026-01-15T12:00:00.000Z");
    assert.equal(errorEvent("anything", now, { rateLimited: true, resetsAt: "2026-01-15T13:00:00Z" }).retryAt, "2026-01-15T13:00:00.000Z");
  });

  it("counts a delay from now: seconds, milliseconds, h-m-s and words", () => {
    assert.equal(retryAt("Your quota will reset after 2h7m23s."), "2026-01-15T14:07:23.000Z");
    assert.equal(retryAt("Please retry in 41.5s"), "2026-01-15T12:00:41.500Z");
    assert.equal(retryAt("Please retry in 250ms"), "2026-01-15T12:00:00.250Z");
    assert.equal(retryAt("You've hit your usage limit. try again in 2 hours 13 minutes."), "2026-01-15T14:13:00.000Z");
    assert.equal(retryAt("usage limit: try again in 4 days 5 hours"), "2026-01-19T17:00:00.000Z");
    assert.equal(retryAt('RESOURCE_EXHAUSTED {"details":[{"retryDelay":"34s"}]}'), "2026-01-15T12:00:34.000Z");
    assert.equal(retryAt('429 usage_limit_reached "resets_in_seconds":467439'), "2026-01-20T21:50:39.000Z");
  });

  it("takes a wall-clock time in the named zone at its next occurrence", () => {
    // 12:00Z is 13:00 in Berlin: today's 9am has passed, tomorrow's is meant.
    assert.equal(retryAt("You've hit your session limit · resets 9am (Europe/Berlin)"), "2026-01-16T08:00:00.000Z");
    assert.equal(retryAt("You've hit your usage limit. Your limit resets at 3pm (Europe/Madrid)."), "2026-01-15T14:00:00.000Z");
    assert.equal(retryAt("5-hour limit reached ∙ resets 10:30pm (America/New_York)"), "2026-01-16T03:30:00.000Z");
    assert.equal(retryAt("Weekly limit reached · resets Oct 9, 10am (Europe/Berlin)"), "2026-10-09T08:00:00.000Z");
  });

  it("reads a time without a zone as this machine's local time", () => {
    const local = (y: number, m: number, d: number, h: number, min: number) => new Date(y, m, d, h, min).toISOString();
    assert.equal(retryAt("You've hit your usage limit. Upgrade to Pro (https://chatgpt.com/explore/pro), visit https://chatgpt.com/codex/settings/usage to purchase more credits or try again at Mar 10th, 2026 3:39 AM."), local(2026, 2, 10, 3, 39));
    assert.equal(retryAt("Weekly limit reached · resets Aug 20"), local(2026, 7, 20, 0, 0));
    const at = retryAt("You've hit your usage limit. Try again at 11:20 PM.")!;
    assert.ok(Date.parse(at) > now.getTime() && Date.parse(at) <= now.getTime() + 86_400_000, at);
    assert.equal(new Date(at).getHours(), 23);
  });

  it("marks a rate limit without a time it can read as rate limited, without retryAt", () => {
    assert.deepEqual(errorEvent("You've hit your usage limit. Limits reset every 5h and every week.", now), { kind: "error", message: "You've hit your usage limit. Limits reset every 5h and every week.", rateLimited: true });
    assert.deepEqual(errorEvent("HTTP 401", now), { kind: "error", message: "HTTP 401" });
    assert.equal(errorEvent("Overloaded", now, { status: 429 }).rateLimited, true);
  });
});
