import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { labelsOf } from "../../../src/autopilot/dispatch.js";

describe("a task's labels", () => {
  it("are front matter's labels: a list of strings, or one comma-separated string; anything else is none", () => {
    assert.deepEqual(labelsOf({ extra: { labels: ["bug", "easy"] } }), ["bug", "easy"]);
    assert.deepEqual(labelsOf({ extra: { labels: "bug, easy" } }), ["bug", "easy"]);
    assert.deepEqual(labelsOf({ extra: { labels: ["bug", 3, null] } }), ["bug"]);
    assert.deepEqual(labelsOf({ extra: { labels: 7 } }), []);
    assert.deepEqual(labelsOf({ extra: {} }), []);
  });
});
