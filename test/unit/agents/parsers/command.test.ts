import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseLines } from "../../../helpers/agent-streams.js";

describe("the command parser", () => {
  it("makes every stdout line an assistant message of its text, JSON or not, blank or not", () => {
    assert.deepEqual(parseLines("command", ['{"type":"result"}', "", "done\r"]), [
      { kind: "assistant_message", text: '{"type":"result"}' },
      { kind: "assistant_message", text: "" },
      { kind: "assistant_message", text: "done" },
    ]);
  });
});
