import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseRepoConfig } from "../../../src/config/repo-config.js";

function refusal(text: string, source?: string): string {
  try {
    parseRepoConfig(text, source);
  } catch (err) {
    assert.equal((err as Error).name, "CookError");
    assert.equal((err as { code?: string }).code, "invalid");
    return (err as Error).message;
  }
  assert.fail("expected the cook.toml to be refused");
}

const defaults = { backend: undefined, setup: undefined, copy: [], ports: 1, databases: [], network: true };

describe("parseRepoConfig", () => {
  it("gives every default to a repo without a cook.toml, or with one that has no [environment]", () => {
    assert.deepEqual(parseRepoConfig(undefined).environment, defaults);
    assert.deepEqual(parseRepoConfig("").environment, defaults);
    assert.deepEqual(parseRepoConfig("[environment]\n").environment, defaults);
  });

  it("reads every setting of a full [environment] table", () => {
    const config = parseRepoConfig(`
[environment]
backend = "sandbox"
setup = "npm ci"
copy = [".env", "config/local.json"]
ports = 10
databases = ["app", "cache_2"]
network = false
`);
    assert.deepEqual(config.environment, {
      backend: "sandbox",
      setup: "npm ci",
      copy: [".env", "config/local.json"],
      ports: 10,
      databases: ["app", "cache_2"],
      network: false,
    });
  });

  it("returns a frozen config, arrays included", () => {
    const config = parseRepoConfig(`[environment]\ncopy = [".env"]\n`);
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.environment) && Object.isFrozen(config.environment.copy));
    assert.throws(() => (config.environment.copy as string[]).push("x"), TypeError);
  });

  it("ignores top-level tables it does not know yet, such as [gates]", () => {
    const config = parseRepoConfig(`[gates.test]\ncommand = "npm test"\n\n[environment]\nports = 3\n`);
    assert.equal(config.environment.ports, 3);
  });

  it("names the key, the rule and the value when ports is not an integer from 1 to 100", () => {
    assert.equal(refusal(`[environment]\nports = "ten"\n`), 'cook.toml: environment.ports must be an integer from 1 to 100 (got "ten")');
    for (const value of ["0", "101", "2.5", "-1"]) {
      assert.match(refusal(`[environment]\nports = ${value}\n`), new RegExp(`environment\\.ports must be an integer from 1 to 100 \\(got ${value}\\)`));
    }
  });

  it("names the known backends when backend is something else", () => {
    assert.equal(refusal(`[environment]\nbackend = "docker"\n`), 'cook.toml: environment.backend must be one of "local", "sandbox", "none" (got "docker")');
  });

  it("refuses an unknown key under [environment], so a typo is never silently ignored", () => {
    assert.equal(
      refusal(`[environment]\nprots = 10\n`),
      "cook.toml: unknown key environment.prots (known keys: backend, setup, copy, ports, databases, network)",
    );
  });

  it("lists every problem in one message, naming the source it was given", () => {
    const message = refusal(`[environment]\nports = 0\nnetwork = "yes"\nsetup = ""\nbakend = "local"\n`, "cook.toml on main");
    assert.deepEqual(message.split("; "), [
      "cook.toml on main: environment.ports must be an integer from 1 to 100 (got 0)",
      'cook.toml on main: environment.network must be true or false (got "yes")',
      'cook.toml on main: environment.setup must be a shell command (got "")',
      "cook.toml on main: unknown key environment.bakend (known keys: backend, setup, copy, ports, databases, network)",
    ]);
  });

  it("names the line and column of a TOML syntax error", () => {
    assert.match(refusal(`[environment]\nports = = 3\n`), /^cook\.toml:2:\d+: invalid TOML: /);
  });

  it("refuses an [environment] that is not a table", () => {
    assert.equal(refusal(`environment = "sandbox"\n`), 'cook.toml: [environment] must be a table (got "sandbox")');
  });

  it("refuses copy paths that are absolute, climb out, are not normalized, hold a NUL or touch .git", () => {
    const paths = ["/etc/passwd", "../secrets", "a/../../b", "./.env", "config//local.json", "config/", ".", "a\u0000b", ".git", ".git/hooks/pre-commit", "sub/.GIT/config", ""];
    const message = refusal(`[environment]\ncopy = ${JSON.stringify(paths)}\n`);
    const problems = message.split("; ");
    assert.equal(problems.length, paths.length);
    assert.equal(problems[0], 'cook.toml: environment.copy[0] must be a relative path inside the repository, outside .git (got "/etc/passwd": it is absolute)');
    assert.match(problems[1]!, /copy\[1\] .*"\.\.\/secrets": it has a '\.\.' segment\)$/);
    assert.match(problems[2]!, /copy\[2\] .*it has a '\.\.' segment\)$/);
    assert.match(problems[3]!, /copy\[3\] .*it is not normalized \(write '\.env'\)\)$/);
    assert.match(problems[4]!, /copy\[4\] .*it is not normalized \(write 'config\/local\.json'\)\)$/);
    assert.match(problems[5]!, /copy\[5\] .*it is not normalized \(write 'config'\)\)$/);
    assert.match(problems[6]!, /copy\[6\] .*it names the whole checkout\)$/);
    assert.match(problems[7]!, /copy\[7\] .*"a\\u0000b": it contains a NUL byte\)$/);
    for (const index of [8, 9, 10]) assert.match(problems[index]!, new RegExp(`copy\\[${index}\\] .*it is a \\.git folder or inside one\\)$`));
    assert.match(problems[11]!, /copy\[11\] .*it is empty\)$/);
  });

  it("accepts dotfiles and names that merely start with .git", () => {
    assert.deepEqual(parseRepoConfig(`[environment]\ncopy = [".env", ".github/x", ".gitignore.local", "a/..b"]\n`).environment.copy, [".env", ".github/x", ".gitignore.local", "a/..b"]);
  });

  it("refuses copy and databases that are not arrays of strings", () => {
    const message = refusal(`[environment]\ncopy = ".env"\ndatabases = [1]\n`);
    assert.equal(
      message,
      'cook.toml: environment.copy must be an array of relative paths (got ".env"); cook.toml: environment.databases must be an array of database names (got an array)',
    );
  });

  it("refuses database names that are not identifiers, repeated, or more than 8", () => {
    const message = refusal(`[environment]\ndatabases = ["app", "App", "1db", "app", "a-b", "${"x".repeat(32)}"]\n`);
    assert.deepEqual(message.split("; "), [
      'cook.toml: environment.databases[1] must be 1-31 lowercase letters, digits or \'_\', starting with a letter (got "App")',
      'cook.toml: environment.databases[2] must be 1-31 lowercase letters, digits or \'_\', starting with a letter (got "1db")',
      'cook.toml: environment.databases[3] names "app" a second time',
      'cook.toml: environment.databases[4] must be 1-31 lowercase letters, digits or \'_\', starting with a letter (got "a-b")',
      `cook.toml: environment.databases[5] must be 1-31 lowercase letters, digits or '_', starting with a letter (got "${"x".repeat(32)}")`,
    ]);
    const nine = Array.from({ length: 9 }, (_, i) => `db${i}`);
    assert.equal(refusal(`[environment]\ndatabases = ${JSON.stringify(nine)}\n`), "cook.toml: environment.databases may name at most 8 databases (got 9)");
    assert.equal(parseRepoConfig(`[environment]\ndatabases = ["${"x".repeat(31)}"]\n`).environment.databases[0], "x".repeat(31));
  });

  it("describes tables and dates by their kind, not their contents", () => {
    const message = refusal(`[environment]\nsetup = 1979-05-27\nnetwork = { on = true }\n`);
    assert.equal(message, "cook.toml: environment.setup must be a shell command (got a date); cook.toml: environment.network must be true or false (got a table)");
  });

  it("treats keys named like Object.prototype members as unknown keys", () => {
    assert.match(refusal(`[environment]\nconstructor = 1\n__proto__ = 2\n`), /unknown key environment\.constructor .*unknown key environment\.__proto__ /);
  });
});
