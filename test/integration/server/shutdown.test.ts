import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { runCli, startCook } from "../../helpers/cook.js";

describe("cook serve lifecycle", () => {
  it("stops within 10 s on SIGTERM with a live event stream open, and releases its data dir", async () => {
    const cook = await startCook();
    const stream = await fetch(`${cook.url}/api/events/stream`);
    const reader = stream.body!.getReader();
    await reader.read(); // the stream is open and flowing

    const started = Date.now();
    const code = await cook.stop("SIGTERM");
    const elapsed = Date.now() - started;
    assert.equal(code, 0);
    assert.ok(elapsed < 10_000, `took ${elapsed} ms`);
    for (;;) if ((await reader.read().catch(() => ({ done: true }))).done) break; // the server ended the stream
    assert.equal(existsSync(join(cook.dataDir, "serve.pid")), false);
    assert.match(cook.output(), /"msg":"stopped"/);

    const again = await startCook({ env: { COOK_DATA_DIR: cook.dataDir } });
    assert.equal((await fetch(`${again.url}/healthz`)).status, 200);
    assert.equal(await again.stop("SIGINT"), 0);
  });

  it("refuses a second server on the same data dir, naming the first", async () => {
    const first = await startCook();
    try {
      const second = await first.cli(["serve", "--port", "0"], { env: { COOK_DATA_DIR: first.dataDir } });
      assert.equal(second.code, 1);
      assert.equal(second.stderr, `cook: another cook serve (pid ${first.child.pid}) is using ${first.dataDir}; stop it or choose another data dir\n`);
      assert.equal((await fetch(`${first.url}/healthz`)).status, 200);
    } finally {
      await first.stop();
    }
  });

  it("refuses a data dir it cannot create with one line", async () => {
    const result = await runCli(["serve", "--port", "0"], { env: { COOK_DATA_DIR: "/etc/passwd/cook" } });
    assert.deepEqual([result.code, result.stderr], [1, "cook: cannot use data dir /etc/passwd/cook: ENOTDIR\n"]);
  });

  it("refuses a port that is taken with a clear message", async () => {
    const first = await startCook();
    try {
      const port = new URL(first.url).port;
      const second = await first.cli(["serve", "--port", port]);
      assert.equal(second.code, 1);
      assert.match(second.stderr, new RegExp(`^cook: 127\\.0\\.0\\.1:${port} is already in use`));
    } finally {
      await first.stop();
    }
  });
});
