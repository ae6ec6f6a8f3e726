import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { dueSlot, parseAutomations } from "../../../src/config/automation-config.js";

describe("[[automations]] of cook.toml", () => {
  it("reads schedules and triggers with their task templates", () => {
    const automations = parseAutomations(`
[[automations]]
name = "nightly-deps"
cron = "0 3 * * *"
timezone = "Europe/Berlin"
[automations.task]
title = "Update dependencies"
labels = ["bot"]
priority = 3

[[automations]]
name = "fix-main"
on = "cook.gate.app.main.*.failed"
[automations.task]
title = "Main is red: {{event.data.gate}} failed"
body = "{{event.data.summary}}"
`);
    assert.deepEqual(automations, [
      { name: "nightly-deps", cron: "0 3 * * *", timezone: "Europe/Berlin", on: undefined, task: { title: "Update dependencies", body: "", labels: ["bot"], priority: 3 } },
      { name: "fix-main", cron: undefined, timezone: undefined, on: "cook.gate.app.main.*.failed", task: { title: "Main is red: {{event.data.gate}} failed", body: "{{event.data.summary}}", labels: [], priority: undefined } },
    ]);
    assert.deepEqual(parseAutomations(undefined), []);
    assert.deepEqual(parseAutomations("[autopilot]\n"), []);
  });

  it("lists every problem, naming the automation", () => {
    const text = `
[[automations]]
name = "Bad Name"
[automations.task]
title = "x"

[[automations]]
name = "both"
cron = "61 * * * *"
on = "cook..x"
[automations.task]
title = "{{#open}}"
colour = "red"

[[automations]]
name = "both"
on = "cook.>"

[[automations]]
name = "mars"
cron = "* * * * *"
timezone = "Mars/Olympus"
[automations.task]
title = "x"
`;
    assert.throws(() => parseAutomations(text, "cook.toml on main"), (err: Error) => {
      for (const expected of [
        /cook\.toml on main: automations\[0\]: name must be 1-40 lowercase letters/,
        /give exactly one of cron \(a schedule\) or on \(an event subject pattern\)/,
        /automation "both": cron "61 \* \* \* \*" is not a schedule: .*minute/,
        /automation "both": on must be an event subject pattern/,
        /automation "both": task\.title is not a template: Unclosed section "open"/,
        /unknown key task\.colour/,
        /automations\[2\]: a second automation named "both"/,
        /automation "mars": timezone "Mars\/Olympus" is not a time zone this server knows/,
      ]) assert.match(err.message, expected);
      return true;
    });
  });

  it("owes the newest slot since the last firing, once, however many were missed", () => {
    const hourly = { cron: "0 * * * *", timezone: "UTC" };
    const last = new Date("2026-12-01T10:00:00Z");
    assert.equal(dueSlot(hourly, last, new Date("2026-12-01T10:59:59Z")), undefined);
    assert.deepEqual(dueSlot(hourly, last, new Date("2026-12-01T11:00:00Z")), new Date("2026-12-01T11:00:00Z"));
    assert.deepEqual(dueSlot(hourly, last, new Date("2026-12-01T15:30:00Z")), new Date("2026-12-01T15:00:00Z"), "four missed slots: one firing, for the newest");
    assert.deepEqual(dueSlot({ cron: "*/5 * * * * *", timezone: "UTC" }, new Date("2026-12-01T10:00:00Z"), new Date("2026-12-01T10:00:12Z")), new Date("2026-12-01T10:00:10Z"));
    assert.equal(dueSlot({ cron: undefined, timezone: undefined }, last, new Date()), undefined);
  });
});
