import assert from "node:assert/strict";
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { Environment } from "../../../src/core/branch.js";
import { createDiskUse } from "../../../src/environments/disk-use.js";
import { tempDir } from "../../helpers/git.js";

function environmentAt(path: string, backend: Environment["backend"] = "local", id = `env_${Math.random().toString(36).slice(2)}`): Environment {
  const now = new Date().toISOString();
  return { id, branchId: "brn_x", backend, path, state: "ready", portBase: 20000, portCount: 1, databases: [], network: true, setupCommand: undefined, error: undefined, createdAt: now, updatedAt: now, tornDownAt: undefined };
}

describe("disk use of environments", () => {
  it("knows nothing until measured, then the size of the checkout, remembered while fresh", async () => {
    const checkout = join(tempDir(), "checkout");
    mkdirSync(checkout);
    writeFileSync(join(checkout, "big.bin"), Buffer.alloc(512 * 1024, 1));
    const diskUse = createDiskUse({ freshMs: 60_000 });
    const environment = environmentAt(checkout);
    assert.deepEqual(diskUse.peek(environment), { bytes: undefined, fresh: false }, "peeking starts nothing");
    const bytes = await diskUse.measure(environment);
    assert.ok(bytes !== undefined && bytes >= 512 * 1024 && bytes < 1024 * 1024, `${bytes} bytes`);
    assert.deepEqual(diskUse.peek(environment), { bytes, fresh: true });

    writeFileSync(join(checkout, "more.bin"), Buffer.alloc(512 * 1024, 1));
    assert.equal(await diskUse.measure(environment), bytes, "a fresh size is not measured again");
  });

  it("measures again once the size is older than freshMs, and counts a symlink as itself", async () => {
    const checkout = join(tempDir(), "checkout");
    mkdirSync(checkout);
    writeFileSync(join(checkout, "a.bin"), Buffer.alloc(256 * 1024, 1));
    symlinkSync("/usr", join(checkout, "usr-link"));
    const diskUse = createDiskUse({ freshMs: 20 });
    const environment = environmentAt(checkout);
    const first = (await diskUse.measure(environment))!;
    assert.ok(first < 1024 * 1024, "the link to /usr is not followed");
    writeFileSync(join(checkout, "b.bin"), Buffer.alloc(1024 * 1024, 1));
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(diskUse.peek(environment).fresh, false);
    assert.ok((await diskUse.measure(environment))! >= first + 1024 * 1024);
  });

  it("counts the private folder next to the checkout (a sandbox's HOME and /tmp, agents' session state) with it, each once", async () => {
    const root = tempDir();
    const checkout = join(root, "checkout");
    mkdirSync(checkout);
    mkdirSync(join(`${checkout}.cook`, "home"), { recursive: true });
    mkdirSync(join(`${checkout}.cook`, "tmp"), { recursive: true });
    writeFileSync(join(`${checkout}.cook`, "home", "cache.bin"), Buffer.alloc(1024 * 1024, 1));
    const local = (await createDiskUse().measure(environmentAt(checkout, "local")))!;
    const sandbox = (await createDiskUse().measure(environmentAt(checkout, "sandbox")))!;
    assert.ok(local >= 1024 * 1024 && local < 2 * 1024 * 1024, `local ${local}`);
    assert.equal(sandbox, local, "the same folders, each counted once");
  });

  it("gives undefined for a folder that is gone", async () => {
    const checkout = join(tempDir(), "checkout");
    mkdirSync(checkout);
    rmSync(checkout, { recursive: true });
    assert.equal(await createDiskUse().measure(environmentAt(checkout)), undefined);
  });

  it("answers every caller when more sizes are asked for than du processes run at once", async () => {
    const environments = Array.from({ length: 6 }, (_, i) => {
      const checkout = join(tempDir(), `checkout-${i}`);
      mkdirSync(checkout);
      writeFileSync(join(checkout, "f"), "x");
      return environmentAt(checkout);
    });
    const diskUse = createDiskUse({ concurrency: 2 });
    const sizes = await Promise.all(environments.map((environment) => diskUse.measure(environment)));
    assert.ok(sizes.every((size) => typeof size === "number" && size > 0), String(sizes));
  });
});
