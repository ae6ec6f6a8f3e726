import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { commandAgentsConfig } from "../../helpers/command-agents.js";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { publishedEvents, type EventRow } from "../../helpers/events.js";
import { seedRepo } from "../../helpers/gates.js";
import { eventually } from "../../helpers/wait.js";

// The test decides when each branch may land: the agent pushes its work at once (a file named after
// its branch, under docs/ for tasks named free-*, else under src/), and the gate fails until a file
// named after the branch appears in `release`; then the agent pushes once more, and the gate passes.
const release = mkdtempSync(join(tmpdir(), "cook-release-"));
const worker = `#!/bin/sh
case "$COOK_BRANCH" in free*) dir=docs ;; *) dir=src ;; esac
mkdir -p "$dir" && echo "$COOK_BRANCH" > "$dir/$COOK_BRANCH.txt"
git add -A && git commit -qm "do $COOK_BRANCH" && git push -q origin HEAD
while [ ! -f "${release}/$COOK_BRANCH" ]; do sleep 0.1; done
echo released >> "$dir/$COOK_BRANCH.txt"
git commit -qam "finish $COOK_BRANCH" && git push -q origin HEAD && cook done
`;

interface QueueLine {
  id: string;
  waits?: { reason: string; overlaps?: { branch: string; files: string[] } };
}

describe("autopilot with serialize_overlaps", () => {
  let cook: RunningCook;
  const gate = `[[gates]]\nname = "released"\ncommand = 'test -f "${release}/$COOK_BRANCH"'\n`;

  before(async () => {
    cook = await startCook({ config: commandAgentsConfig({ worker }) });
  });
  after(async () => {
    await cook?.stop();
  });

  const importTasks = async (repo: string, tasks: Array<{ id: string; priority: number; files?: string }>) => {
    const dir = mkdtempSync(join(tmpdir(), "cook-tasks-"));
    for (const t of tasks) writeFileSync(join(dir, `${t.id}.md`), `---\nid: ${t.id}\ntitle: Task ${t.id}\nrepo: ${repo}\npriority: ${t.priority}\n${t.files ? `files: ${t.files}\n` : ""}---\n`);
    const imported = await cook.cli(["task", "import", dir]);
    assert.equal(imported.code, 0, imported.stderr);
  };
  const status = async (repo: string) => JSON.parse((await cook.cli(["autopilot", "status", repo, "--json"])).stdout) as { config: { serializeOverlaps: boolean }; queue: QueueLine[] };
  const taskStatus = async (id: string) => (JSON.parse((await cook.cli(["task", "show", id, "--json"])).stdout) as { task: { status: string } }).task.status;
  const finish = (branch: string) => writeFileSync(join(release, branch), "");
  const closed = (ids: string[]) => eventually(async () => {
    for (const id of ids) if ((await taskStatus(id)) !== "closed") return undefined;
    return true;
  }, 60_000, `${ids.join(", ")} to be merged`);
  const dispatchedTasks = async (repo: string) => (await publishedEvents(cook, `cook.autopilot.${repo}.dispatched`)).map((e) => e.data.task as string);
  const idOf = (events: EventRow[], task: string) => events.find((e) => e.data.task === task)!.id;

  it("starts a task whose files overlap a running branch's only once that branch merged, and a disjoint one alongside", async () => {
    await seedRepo(cook, "serial", { "cook.toml": `[autopilot]\nconcurrency = 2\nagent = "worker"\nserialize_overlaps = true\n\n${gate}`, "README.md": "# serial\n" });
    await importTasks("serial", [
      { id: "first", priority: 1, files: '["src/"]' },
      { id: "second", priority: 2, files: '"src/*.txt, README.md"' },
      { id: "free-docs", priority: 3, files: "docs/" },
    ]);
    const [skip] = await eventually(async () => {
      const events = await publishedEvents(cook, "cook.autopilot.serial.skipped");
      return events.length > 0 ? events : undefined;
    }, 20_000, "second to be held back");
    assert.deepEqual(skip!.data.task, "second");
    assert.match(String(skip!.data.reason), /^its files overlap branch 'first' \(.*src\/.*\)$/);
    assert.equal((skip!.data.overlaps as { branch: string }).branch, "first");
    await eventually(async () => ((await dispatchedTasks("serial")).length === 2 ? true : undefined), 20_000, "first and free-docs to start");
    assert.deepEqual((await dispatchedTasks("serial")).sort(), ["first", "free-docs"], "the disjoint task runs alongside, in the slot the overlapping one did not take");

    // Held back, not failed: still open, still in the queue, with the reason.
    assert.equal(await taskStatus("second"), "open");
    const shown = await eventually(async () => {
      const s = await status("serial");
      return s.queue[0]?.waits?.overlaps?.files.includes("src/first.txt") ? s : undefined;
    }, 20_000, "first's pushed file to show in the reason");
    assert.equal(shown.config.serializeOverlaps, true);
    assert.deepEqual(shown.queue.map((t) => t.id), ["second"]);
    assert.deepEqual(shown.queue[0]!.waits!.overlaps, { branch: "first", files: ["src/", "src/first.txt"] });
    const text = (await cook.cli(["autopilot", "status", "serial"])).stdout;
    assert.match(text, /serialize_overlaps true/);
    assert.match(text, /P2 {2}second {2}Task second {2}\(waits: its files overlap branch 'first' \(src\/, src\/first\.txt\)\)/);
    const page = await (await fetch(`${cook.url}/repos/serial`)).text();
    assert.match(page, /overlapping tasks wait/);
    assert.match(page, /waits: its files overlap branch &#39;first&#39; \(src\/, src\/first\.txt\)/);

    // free-docs merges and frees a slot: passes run, second still waits, and is not announced again.
    finish("free-docs");
    await closed(["free-docs"]);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(await taskStatus("second"), "open");
    finish("first");
    await closed(["first"]);
    finish("second");
    await closed(["second"]);

    const dispatched = await publishedEvents(cook, "cook.autopilot.serial.dispatched");
    const merged = await publishedEvents(cook, "cook.branch.serial.*.merged");
    assert.ok(idOf(dispatched, "second") > idOf(merged, "first"), "second starts after first merged");
    assert.ok(idOf(dispatched, "free-docs") < idOf(merged, "first"), "free-docs ran while first did");
    const skips = await publishedEvents(cook, "cook.autopilot.serial.skipped");
    assert.deepEqual(skips.map((e) => e.data.task), ["second"], "announced once, not every pass");
  });

  it("holds back a task whose files are invalid, saying why, once", async () => {
    await seedRepo(cook, "invalid", { "cook.toml": `[autopilot]\nagent = "worker"\nserialize_overlaps = true\n\n${gate}` });
    await importTasks("invalid", [{ id: "escapes", priority: 2, files: '["../outside", "src/ok.ts"]' }]);
    const reason = "its front-matter files are invalid: '../outside' has a '..' segment";
    const [skip] = await eventually(async () => {
      const events = await publishedEvents(cook, "cook.autopilot.invalid.skipped");
      return events.length > 0 ? events : undefined;
    }, 20_000, "the task to be held back");
    assert.deepEqual(skip!.data, { task: "escapes", reason, by: "cook-autopilot" });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(await taskStatus("escapes"), "open");
    assert.deepEqual((await status("invalid")).queue, [{ id: "escapes", title: "Task escapes", priority: 2, waits: { reason } }]);
    assert.equal((await publishedEvents(cook, "cook.autopilot.invalid.skipped")).length, 1);
  });

  it("without serialize_overlaps, runs overlapping tasks together", async () => {
    await seedRepo(cook, "together", { "cook.toml": `[autopilot]\nconcurrency = 2\nagent = "worker"\n\n${gate}` });
    await importTasks("together", [
      { id: "one", priority: 1, files: '["src/"]' },
      { id: "two", priority: 2, files: '["src/*.txt"]' },
    ]);
    await eventually(async () => ((await dispatchedTasks("together")).length === 2 ? true : undefined), 20_000, "both to start");
    assert.equal((await status("together")).config.serializeOverlaps, false);
    finish("one");
    finish("two");
    await closed(["one", "two"]);
    assert.deepEqual(await publishedEvents(cook, "cook.autopilot.together.skipped"), []);
  });
});
