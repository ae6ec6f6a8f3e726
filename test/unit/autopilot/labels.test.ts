import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { labelsOf } from "../../../src/autopilot/dispatch.js";
import { compareStages, stageOf } from "../../../src/autopilot/stages.js";

describe("a task's labels", () => {
  it("are front matter's labels: a list of strings, or one comma-separated string; anything else is none", () => {
    assert.deepEqual(labelsOf({ extra: { labels: ["bug", "easy"] } }), ["bug", "easy"]);
    assert.deepEqual(labelsOf({ extra: { labels: "bug, easy" } }), ["bug", "easy"]);
    assert.deepEqual(labelsOf({ extra: { labels: ["bug", 3, null] } }), ["bug"]);
    assert.deepEqual(labelsOf({ extra: { labels: 7 } }), []);
    assert.deepEqual(labelsOf({ extra: {} }), []);
  });
});

describe("a task's stage", () => {
  it("is front matter's stage, a text or a whole number", () => {
    assert.equal(stageOf({ extra: { stage: 2 } }), "2");
    assert.equal(stageOf({ extra: { stage: " design " } }), "design");
    assert.equal(stageOf({ extra: { stage: "" } }), undefined);
    assert.equal(stageOf({ extra: { stage: 1.5 } }), undefined);
    assert.equal(stageOf({ extra: {} }), undefined);
  });

  it("orders stages numbers first, by value, then names alphabetically", () => {
    assert.deepEqual(["ship", "10", "2", "design", "1"].sort(compareStages), ["1", "2", "10", "design", "ship"]);
  });
});
