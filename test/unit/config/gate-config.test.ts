import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defaultGatePolicy, parseDuration, parseGatePolicy, parseGates } from "../../../src/config/gate-config.js";
import { parseRepoConfig } from "../../../src/config/repo-config.js";
import { gateConfigHash } from "../../../src/core/gate.js";

const example = `[environment]
backend = "local"

[[gates]]
name = "ci"
command = "npm test"
timeout = "20m"
retries = { exit_codes = [75], limit = 2 }
on_fail = "agent"

[[gates]]
name = "review"
kind = "agent_review"
agent = "claude"
prompt = "Review this change for bugs and missing tests."

[[gates]]
name = "approve"
kind = "human_approval"
reviewers = ["alice"]
`;

describe("gate definitions in cook.toml", () => {
  it("reads the issue's example in order, with defaults, and leaves [environment] to its own reader", () => {
    const gates = parseGates(example);
    assert.deepEqual(
      gates.map((g) => [g.name, g.kind, g.command, g.timeoutMs, g.retries, g.onFail, g.agent, g.reviewers, g.line]),
      [
        ["ci", "command", "npm test", 20 * 60_000, { exitCodes: [75], limit: 2 }, "agent", undefined, [], 4],
        ["review", "agent_review", undefined, 30 * 60_000, { exitCodes: [], limit: 0 }, "stop", "claude", [], 11],
        ["approve", "human_approval", undefined, 30 * 60_000, { exitCodes: [], limit: 0 }, "stop", undefined, ["alice"], 17],
      ],
    );
    assert.equal(parseRepoConfig(example).environment.backend, "local");
  });

  it("has no gates without a file or without [[gates]]", () => {
    assert.deepEqual(parseGates(undefined), []);
    assert.deepEqual(parseGates('[environment]\nsetup = "make"\n'), []);
  });

  it("names every problem with the line of its [[gates]] header, at once", () => {
    const text = `[[gates]]
name = "ci"

[[gates]]
name = "ci"
kind = "vibes"
timeout = "soon"
colour = "red"
retries = { exit_codes = ["x"], limit = 99 }
on_fail = "panic"
reviewers = "alice"
`;
    assert.throws(
      () => parseGates(text, "cook.toml on main"),
      (err: Error) => {
        assert.equal(
          err.message,
          [
            'cook.toml on main:1: [[gates]] #1: a command gate needs command = "…"',
            "cook.toml on main:4: [[gates]] #2: unknown key colour (known keys: name, kind, command, timeout, retries, on_fail, agent, prompt, reviewers)",
            'cook.toml on main:4: [[gates]] #2: name "ci" is used by an earlier gate',
            'cook.toml on main:4: [[gates]] #2: kind must be one of command, agent_review, human_approval (got "vibes")',
            'cook.toml on main:4: [[gates]] #2: timeout must be like "90s", "20m" or "2h", at most 24h (got "soon")',
            "cook.toml on main:4: [[gates]] #2: retries must be { exit_codes = [<1-255>, …], limit = <0-10> }",
            'cook.toml on main:4: [[gates]] #2: on_fail must be "agent" or "stop" (got "panic")',
            'cook.toml on main:4: [[gates]] #2: reviewers must be an array of token names (got "alice")',
          ].join("; "),
        );
        return true;
      },
    );
  });

  it("names the line and column of a TOML syntax error, and refuses gates that are not [[gates]] tables", () => {
    assert.throws(() => parseGates('[[gates]]\nname = "ci\n'), /: cook\.toml:2:\d+: invalid TOML/);
    assert.throws(() => parseGates('gates = "npm test"\n'), /cook\.toml: gates must be \[\[gates\]\] tables \(got "npm test"\)/);
  });

  it("reads durations as seconds, minutes or hours", () => {
    assert.deepEqual(["90s", "20m", "2h", 45, " 5m ", "0s", "1d", "20", -3, 1.5].map(parseDuration), [90_000, 1_200_000, 7_200_000, 45_000, 300_000, undefined, undefined, undefined, undefined, undefined]);
  });

  it("hashes the definitions, not where they stand in the file", () => {
    const moved = parseGates(`\n\n${example}`);
    assert.equal(gateConfigHash(moved), gateConfigHash(parseGates(example)));
    assert.notEqual(gateConfigHash(parseGates(example.replace("npm test", "npm run test"))), gateConfigHash(parseGates(example)));
  });

  it("reads [gate_defaults] and [merge], defaulting what they leave out", () => {
    assert.deepEqual(parseGatePolicy(undefined), defaultGatePolicy);
    assert.deepEqual(parseGatePolicy('[gate_defaults]\non_fail = "agent"\nmax_fixes = 1\n\n[merge]\nstrategy = "squash"\n'), {
      onFail: "agent",
      onChangesRequested: "stop",
      maxFixes: 1,
      strategy: "squash",
      onConflict: "stop",
    });
    // A gate that does not say takes the repo's on_fail.
    assert.equal(parseGates('[gate_defaults]\non_fail = "agent"\n\n[[gates]]\nname = "ci"\ncommand = "true"\n')[0]!.onFail, "agent");
    assert.throws(
      () => parseGatePolicy('[gate_defaults]\non_fail = "retry"\nmax_fixes = -1\ncolour = 1\n\n[merge]\nstrategy = "rebase"\n'),
      (err: Error) => {
        assert.equal(
          err.message,
          [
            "cook.toml: unknown key gate_defaults.colour (known keys: on_fail, on_changes_requested, max_fixes)",
            'cook.toml: gate_defaults.max_fixes must be a whole number from 0 to 20 (got -1)',
            'cook.toml: merge.strategy must be one of auto, ff-only, merge, squash (got "rebase")',
            'cook.toml: gate_defaults.on_fail must be "agent" or "stop" (got "retry")',
          ].join("; "),
        );
        return true;
      },
    );
  });
});
