import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { publishedEvents } from "../../helpers/events.js";
import { seedRepo } from "../../helpers/gates.js";
import { eventually } from "../../helpers/wait.js";

interface TaskRow {
  id: string;
  title: string;
  body: string;
  extra: Record<string, unknown>;
}

const tasksOf = async (cook: RunningCook, repo: string) => {
  const ids = (JSON.parse((await cook.cli(["task", "list", `--repo=${repo}`, "--json"])).stdout) as Array<{ id: string }>).map((t) => t.id);
  const tasks: TaskRow[] = [];
  for (const id of ids) tasks.push((JSON.parse((await cook.cli(["task", "show", id, "--json"])).stdout) as { task: TaskRow }).task);
  return tasks;
};

describe("automations", () => {
  it("makes a task per matching event from its templates, never for its own tasks, and once per event across a restart", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "cook-test-"));
    let cook = await startCook({ env: { COOK_DATA_DIR: dataDir } });
    try {
      await seedRepo(cook, "app", {
        "cook.toml": `[[automations]]
name = "check-deploy"
on = "cook.custom.app.deployed"
[automations.task]
title = "Check deploy {{event.data.version}}"
body = "Deployed by {{event.data.who}} at {{event.timestamp}}."
labels = ["bot", "ops"]
priority = 1

[[automations]]
name = "triage"
on = "cook.task.app.*.created"
[automations.task]
title = "Triage: {{event.data.title}}"
`,
      });
      for (const version of ["2.0", "2.1"]) {
        const published = await cook.cli(["events", "publish", "app", "deployed", "-d", JSON.stringify({ version, who: "ci" })]);
        assert.equal(published.code, 0, published.stderr);
      }
      assert.equal((await cook.cli(["task", "create", "app", "--title=Broken login"])).code, 0);
      await eventually(async () => ((await tasksOf(cook, "app")).length === 4 ? true : undefined), 20_000, "the automations' tasks");
      const tasks = await tasksOf(cook, "app");
      const titles = tasks.map((t) => t.title).sort();
      assert.deepEqual(titles, ["Broken login", "Check deploy 2.0", "Check deploy 2.1", "Triage: Broken login"], "a task the automation made does not trigger it again");
      const deploy = tasks.find((t) => t.title === "Check deploy 2.0")!;
      assert.match(deploy.body, /^Deployed by ci at \d{4}-\d\d-\d\dT/);
      assert.deepEqual(deploy.extra, { labels: ["bot", "ops"], automation: "check-deploy" });
      const created = await publishedEvents(cook, "cook.task.app.*.created");
      assert.equal(created.filter((e) => e.data.by === "cook-automation").length, 3);

      await cook.stop();
      cook = await startCook({ env: { COOK_DATA_DIR: dataDir } });
      await new Promise((resolve) => setTimeout(resolve, 2000));
      assert.equal((await tasksOf(cook, "app")).length, 4, "no event fired twice after the restart");
    } finally {
      await cook.stop();
    }
  });

  it("fires a schedule at each slot, and once, not once per slot, for the slots missed while the server was down", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "cook-test-"));
    let cook = await startCook({ env: { COOK_DATA_DIR: dataDir } });
    const slots = async () => (await tasksOf(cook, "tick")).map((t) => Date.parse(t.body)).sort((a, b) => a - b);
    try {
      await seedRepo(cook, "tick", { "cook.toml": '[[automations]]\nname = "every-two-seconds"\ncron = "*/2 * * * * *"\n[automations.task]\ntitle = "Tick {{slot}}"\nbody = "{{slot}}"\n' });
      await eventually(async () => ((await slots()).length >= 2 ? true : undefined), 20_000, "two ticks");
      await cook.stop();
      const downFrom = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 7000));
      cook = await startCook({ env: { COOK_DATA_DIR: dataDir } });
      const upAt = Date.now();
      await eventually(async () => ((await slots()).some((slot) => slot > upAt) ? true : undefined), 20_000, "a tick after the restart");
      const missed = (await slots()).filter((slot) => slot > downFrom && slot < upAt);
      assert.equal(missed.length, 1, `one firing for the ${Math.floor((upAt - downFrom) / 2000)} slots missed: ${missed.map((s) => new Date(s).toISOString())}`);
    } finally {
      await cook.stop();
    }
  });

  // These share one server: each works in repos of its own.
  describe("on one server", () => {
    let cook: RunningCook;
    before(async () => {
      cook = await startCook();
    });
    after(() => cook?.stop());

    it("does not fire an automation for what befalls a task it made, and writes a table in a template as JSON", async () => {
      await seedRepo(cook, "notes", {
        "cook.toml": `[[automations]]
  name = "noter"
  on = "cook.custom.notes.note"
  [automations.task]
  title = "Note {{event.data.n}}"
  body = "data: {{event.data}}; who: {{#event.data.meta}}{{name}}{{/event.data.meta}}"

  [[automations]]
  name = "echo"
  on = "cook.custom.notes.echo"
  [automations.task]
  title = "Echo {{event.data.n}}"
  `,
      });
      const publish = async (data: object) => assert.equal((await cook.cli(["events", "publish", "notes", "note", "-d", JSON.stringify(data)])).code, 0);
      await publish({ n: 1, meta: { name: "ci" } });
      const first = await eventually(async () => (await tasksOf(cook, "notes")).find((t) => t.title === "Note 1"), 10_000, "the first note's task");
      assert.equal(first.body, 'data: {"n":1,"by":"local","meta":{"name":"ci"}}; who: ci');
      assert.equal((await cook.cli(["task", "create", "notes", "--title=By hand", "--id=by-hand"])).code, 0);
      await publish({ n: 2, task: first.id }); // about the automation's own task: no task, or it would loop
      await publish({ n: 3, task: "by-hand" });
      await eventually(async () => (await tasksOf(cook, "notes")).find((t) => t.title === "Note 3"), 10_000, "the third note's task");
      // A chain through another automation: noter's task fires echo, whose task would fire noter again.
      assert.equal((await cook.cli(["events", "publish", "notes", "echo", "-d", JSON.stringify({ n: 4, task: first.id })])).code, 0);
      const echo = await eventually(async () => (await tasksOf(cook, "notes")).find((t) => t.title === "Echo 4"), 10_000, "echo's task");
      await publish({ n: 5, task: echo.id });
      await new Promise((resolve) => setTimeout(resolve, 1000));
      assert.deepEqual((await tasksOf(cook, "notes")).map((t) => t.title).sort(), ["By hand", "Echo 4", "Note 1", "Note 3"]);
    });

    it("refuses a time zone it does not know, and one repo's broken schedule stops no other's", async () => {
      await seedRepo(cook, "mars", { "cook.toml": '[[automations]]\nname = "tz"\ncron = "* * * * * *"\ntimezone = "Mars/Olympus"\n[automations.task]\ntitle = "never"\n' });
      await seedRepo(cook, "zz", { "cook.toml": '[[automations]]\nname = "tick"\ncron = "*/2 * * * * *"\n[automations.task]\ntitle = "Tick {{slot}}"\n' });
      await eventually(async () => ((await tasksOf(cook, "zz")).length > 0 ? true : undefined), 15_000, "the other repo's schedule to fire");
      assert.match(cook.output(), /timezone \\"Mars\/Olympus\\" is not a time zone this server knows/);
      assert.deepEqual(await tasksOf(cook, "mars"), []);
      assert.doesNotMatch(cook.output(), /automation schedules could not be looked at/);
    });

    it("leaves a repo whose automations are invalid alone, and tells why in the log", async () => {
      await seedRepo(cook, "bad", { "cook.toml": '[[automations]]\nname = "x"\n[automations.task]\ntitle = "never"\n' });
      const published = await cook.cli(["events", "publish", "bad", "anything"]);
      assert.equal(published.code, 0, published.stderr);
      // Other repos on this server are warned about too: this one's warning names its problem.
      await eventually(() => (/"repo":"bad"[^\n]*give exactly one of cron \(a schedule\) or on \(an event subject pattern\)[^\n]*automations of this repo are off: its cook\.toml is invalid/.test(cook.output()) ? true : undefined), 10_000, "the warning");
      assert.deepEqual(await tasksOf(cook, "bad"), []);
      // Not only in the log: where a person looks at the repo's autopilot.
      assert.match((await cook.cli(["autopilot", "status", "bad"])).stdout, /^automations off: cook\.toml on main: automation "x": give exactly one of cron/m);
      const page = await (await fetch(`${cook.url}/repos/bad`)).text();
      assert.match(page, /<p class="notice automations-off">Automations are off: cook\.toml on main: automation &quot;x&quot;: give exactly one/);
    });
  });
});
