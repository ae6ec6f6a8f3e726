import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { streamLines } from "../../../src/agents/stream-lines.js";

async function lines(chunks: (string | Uint8Array)[], limit?: number): Promise<string[]> {
  async function* source() {
    yield* chunks;
  }
  const out: string[] = [];
  for await (const line of streamLines(source(), limit)) out.push(line);
  return out;
}

describe("splitting a byte stream into lines", () => {
  it("splits on newlines only (a CR right before one dropped), keeping a lone CR inside its line and a last line without newline", async () => {
    assert.deepEqual(await lines(["a\r\nb\rc\n", "\nlast"]), ["a", "b\rc", "", "last"]);
  });

  it("decodes UTF-8 split across chunks, and invalid bytes as U+FFFD", async () => {
    const euro = Buffer.from("€\n");
    assert.deepEqual(await lines([euro.subarray(0, 1), euro.subarray(1)]), ["€"]);
    assert.deepEqual(await lines([Buffer.from([0x61, 0xff, 0x62, 0x0a])]), ["a\ufffdb"]);
  });

  it("keeps only the head of an endless line and goes on with the next", async () => {
    const chunk = "x".repeat(1000);
    assert.deepEqual(await lines([chunk, chunk, chunk, "\nnext\n"], 1500), ["x".repeat(1500), "next"]);
  });
});
