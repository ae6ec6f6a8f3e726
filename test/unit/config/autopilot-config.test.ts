import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defaultAutopilotConfig, parseAutopilotConfig } from "../../../src/config/autopilot-config.js";

describe("[autopilot] of cook.toml", () => {
  it("is off with the defaults when cook.toml has no [autopilot], and on with them when it has an empty one", () => {
    assert.deepEqual(parseAutopilotConfig(undefined), defaultAutopilotConfig);
    assert.deepEqual(parseAutopilotConfig('[[gates]]\nname = "ci"\ncommand = "true"\n'), defaultAutopilotConfig);
    assert.deepEqual(parseAutopilotConfig("[autopilot]\n"), { ...defaultAutopilotConfig, present: true, enabled: true });
  });

  it("reads every setting", () => {
    const config = parseAutopilotConfig('[autopilot]\nenabled = false\nconcurrency = 4\nagent = "claude"\nbackend = "sandbox"\nmerge = "manual"\nlabels = ["bot", "easy"]\nserialize_overlaps = true\n');
    assert.deepEqual({ ...config, labels: [...config.labels] }, { present: true, enabled: false, concurrency: 4, agent: "claude", backend: "sandbox", merge: "manual", labels: ["bot", "easy"], serializeOverlaps: true });
  });

  it("does not serialize overlapping tasks unless told to", () => {
    assert.equal(defaultAutopilotConfig.serializeOverlaps, false);
    assert.equal(parseAutopilotConfig("[autopilot]\n").serializeOverlaps, false);
    assert.equal(parseAutopilotConfig("[autopilot]\nserialize_overlaps = false\n").serializeOverlaps, false);
  });

  it("lists every problem, naming the file, the key and what was expected", () => {
    assert.throws(
      () => parseAutopilotConfig('[autopilot]\nconcurrency = 0\nbackend = "none"\nmerge = "yes"\nlabels = "bot"\nserialize_overlaps = "yes"\ncolour = "red"\n', "cook.toml on main"),
      (err: Error) => {
        for (const expected of [
          /cook\.toml on main: \[autopilot\] concurrency: expected a whole number from 1 to 32, got 0/,
          /backend: expected one of local, sandbox \(an agent needs an environment\), got "none"/,
          /merge: expected "auto" or "manual", got "yes"/,
          /labels: expected an array of strings, got "bot"/,
          /serialize_overlaps: expected true or false, got "yes"/,
          /colour: unknown key/,
        ]) assert.match(err.message, expected);
        return true;
      },
    );
    assert.throws(() => parseAutopilotConfig("[autopilot\n"), /cook\.toml/);
  });
});
