import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { pushBranch, seedRepo } from "../../helpers/gates.js";

describe("conflict prediction between open branches", () => {
  let cook: RunningCook;

  before(async () => {
    cook = await startCook();
    const work = await seedRepo(cook, "app", { "a.txt": "one\ntwo\nthree\n", "b.txt": "b\n", "c.txt": "c\n" });
    await pushBranch(work, "red", { "a.txt": "one\nRED\nthree\n" });
    await pushBranch(work, "blue", { "a.txt": "one\nBLUE\nthree\n", "c.txt": "c blue\n" });
    await pushBranch(work, "green", { "b.txt": "b green\n" });
    await pushBranch(work, "teal", { "c.txt": "c\n\nteal\n" });
  });
  after(async () => {
    await cook?.stop();
  });

  it("names the pairs that change the same files, and which of them a trial merge finds conflicting", async () => {
    const result = await cook.cli(["branch", "conflicts", "app"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout,
      ["blue and red: both change a.txt; conflict in a.txt", "blue and teal: both change c.txt; conflict in c.txt", ""].join("\n"),
    );
    const json = JSON.parse((await cook.cli(["branch", "conflicts", "app", "--json"])).stdout) as Array<{ a: { name: string }; b: { name: string }; files: string[]; conflicts: string[] }>;
    assert.deepEqual(json.map((p) => [p.a.name, p.b.name, p.files, p.conflicts]), [["blue", "red", ["a.txt"], ["a.txt"]], ["blue", "teal", ["c.txt"], ["c.txt"]]]);
  });

  it("shows them on the dashboard of the repo", async () => {
    const html = await (await fetch(`${cook.url}/branches?repo=app`)).text();
    assert.match(html, /<strong>blue<\/strong> and <strong>red<\/strong> both change a\.txt: <span class="pill status-needs_human">would conflict<\/span> in a\.txt/);
  });

  it("refuses an unknown repo with one line", async () => {
    const result = await cook.cli(["branch", "conflicts", "nowhere"]);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, "cook: no repo named 'nowhere'\n");
  });
});
