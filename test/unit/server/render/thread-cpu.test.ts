import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ownThreadCpuClock, threadCpuMs } from "../../../../src/server/render/thread-cpu.js";

describe("a thread's CPU clock", () => {
  it("counts the time the thread runs, not the time it waits", () => {
    const clock = ownThreadCpuClock();
    assert.ok(clock, "Linux has /proc/thread-self");
    assert.match(clock.stat, /^\/proc\/\d+\/task\/\d+\/stat$/);
    // Spins until the clock has moved 100 ms; under load that takes longer in wall time, never less.
    const spinStarted = performance.now();
    while (threadCpuMs(clock.stat)! - clock.cpuMs < 100) if (performance.now() - spinStarted > 20_000) assert.fail("the clock did not move in 20 s of spinning");
    assert.ok(performance.now() - spinStarted >= 90, "100 ms of CPU took at least about 100 ms");
    const beforeWait = threadCpuMs(clock.stat)!;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
    assert.ok(threadCpuMs(clock.stat)! - beforeWait <= 30, "300 ms asleep cost next to no CPU");
  });

  it("reads nothing, rather than failing, for a thread that is gone", () => {
    assert.equal(threadCpuMs("/proc/999999999/task/999999999/stat"), undefined);
  });
});
