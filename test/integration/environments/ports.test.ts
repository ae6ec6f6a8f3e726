import assert from "node:assert/strict";
import { createServer, type Server } from "node:net";
import { afterEach, describe, it } from "node:test";
import { allocatePortBlock, parsePortRange } from "../../../src/environments/ports.js";

// Below Linux's ephemeral ports (32768 and up), so an outgoing connection never lands in the range;
// a random start keeps test files that run at the same time out of each other's way.
const start = 20000 + Math.floor(Math.random() * 120) * 100;
const range = (first: number, last: number) => ({ first: start + first, last: start + last });

describe("allocatePortBlock", () => {
  const listeners: Server[] = [];
  afterEach(async () => {
    await Promise.all(listeners.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
  });

  async function hold(port: number, host: string): Promise<void> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ port, host, ipv6Only: host === "::" }, resolve);
    });
    listeners.push(server);
  }

  it("gives the first block of the range when nothing is in the way", async () => {
    assert.equal(await allocatePortBlock(10, [], range(0, 99)), start);
  });

  it("skips blocks other environments have taken, including one that overlaps only in part", async () => {
    assert.equal(await allocatePortBlock(10, [{ base: start, size: 5 }, { base: start + 5, size: 10 }], range(0, 99)), start + 15);
    assert.equal(await allocatePortBlock(5, [{ base: start + 3, size: 2 }], range(0, 99)), start + 5);
    assert.equal(await allocatePortBlock(2, [{ base: start, size: 2 }, { base: start + 4, size: 3 }], range(0, 99)), start + 2);
  });

  it("moves the block past a port another process holds on 127.0.0.1", async () => {
    await hold(start + 4, "127.0.0.1");
    assert.equal(await allocatePortBlock(10, [], range(0, 99)), start + 5);
  });

  it("moves the block past ports held on 0.0.0.0 and on ::", async () => {
    await hold(start + 2, "0.0.0.0");
    await hold(start + 7, "::");
    assert.equal(await allocatePortBlock(5, [], range(0, 99)), start + 8);
  });

  it("fits a block that ends exactly at the end of the range", async () => {
    assert.equal(await allocatePortBlock(10, [{ base: start, size: 90 }], range(0, 99)), start + 90);
  });

  it("leaves the ports it tried free for the environment to bind", async () => {
    const base = await allocatePortBlock(3, [], range(0, 99));
    for (let port = base; port < base + 3; port++) await hold(port, "0.0.0.0");
  });

  it("reports the range as exhausted when taken blocks fill it", async () => {
    await assert.rejects(allocatePortBlock(10, [{ base: start, size: 95 }], range(0, 99)), {
      name: "CookError",
      code: "unavailable",
      message: `no 10 consecutive free ports are left in ${start}-${start + 99}: remove environments that are no longer needed or widen the port range`,
    });
  });

  it("reports the range as exhausted when a held port leaves no room", async () => {
    await hold(start + 1, "127.0.0.1");
    await assert.rejects(allocatePortBlock(2, [], range(0, 2)), { code: "unavailable" });
    await assert.rejects(allocatePortBlock(4, [], range(0, 2)), { code: "unavailable" });
  });

  it("refuses a block size or a range that makes no sense", async () => {
    for (const size of [0, -1, 1.5, 70000, Number.NaN]) {
      await assert.rejects(allocatePortBlock(size, [], range(0, 99)), { code: "invalid", message: /^a port block must have from 1 to 65535 ports/ });
    }
    for (const bad of [{ first: 0, last: 10 }, { first: 20, last: 10 }, { first: 60000, last: 70000 }]) {
      await assert.rejects(allocatePortBlock(1, [], bad), { code: "invalid", message: /^a port range must run from a port to a port not below it/ });
    }
  });
});

describe("parsePortRange", () => {
  it("reads a range written as first-last", () => {
    assert.deepEqual(parsePortRange("20000-29999"), { first: 20000, last: 29999 });
    assert.deepEqual(parsePortRange(" 8000 - 8000 "), { first: 8000, last: 8000 });
  });

  it("refuses anything else, naming what was given", () => {
    for (const text of ["", "20000", "20000-", "a-b", "29999-20000", "0-10", "1-65536", "1-2-3", "20000..29999", "-5-10"]) {
      assert.throws(() => parsePortRange(text, "COOK_PORT_RANGE"), {
        name: "CookError",
        code: "invalid",
        message: `COOK_PORT_RANGE must be two port numbers from 1 to 65535 joined by '-', the first not above the second, such as 20000-29999 (got '${text}')`,
      });
    }
  });
});
