import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { packageRoot } from "../../../src/config/package-root.js";
import { cleanEnv, cookBin, runCli, startCook, type RunningCook } from "../../helpers/cook.js";
import { eventually } from "../../helpers/wait.js";

const version = (JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version: string }).version;

describe("cook CLI without a server", () => {
  it("prints its version", async () => {
    const result = await runCli(["--version"]);
    assert.deepEqual([result.code, result.stdout], [0, `${version}\n`]);
  });

  it("has --help on every command", async () => {
    for (const args of [[], ["serve"], ["status"], ["events"], ["events", "list"], ["events", "publish"]]) {
      const result = await runCli([...args, "--help"]);
      assert.equal(result.code, 0, args.join(" "));
      assert.match(result.stdout, new RegExp(`^Usage: cook${args.length ? " " + args.join(" ") : ""} `), args.join(" "));
    }
  });

  it("answers an unknown command or flag with usage and exit code 2", async () => {
    for (const args of [["frobnicate"], ["--frobnicate"], ["events", "--frobnicate"], ["serve", "--port", "eighty"], ["events", "publish", "only-repo"]]) {
      const result = await runCli(args);
      assert.equal(result.code, 2, args.join(" "));
      assert.match(result.stderr, /^error: /, args.join(" "));
      assert.match(result.stderr, /Usage: cook/, args.join(" "));
      assert.equal(result.stdout, "");
    }
  });

  it("exits 3 with a hint when the server cannot be reached", async () => {
    const result = await runCli(["status"], { env: { COOK_SERVER: "http://127.0.0.1:9" } });
    assert.equal(result.code, 3);
    assert.equal(result.stderr, "cook: cannot reach cook server at http://127.0.0.1:9 — is `cook serve` running?\n");
  });

  it("names the file, key and expected type of a malformed client config", async () => {
    const home = mkdtempSync(join(tmpdir(), "cook-cli-"));
    mkdirSync(join(home, "cook"));
    writeFileSync(join(home, "cook", "config.toml"), "[server]\nurl = 7420\n");
    const result = await runCli(["status"], { env: { XDG_CONFIG_HOME: home } });
    assert.equal(result.code, 1);
    assert.equal(result.stderr, `cook: ${join(home, "cook", "config.toml")}: [server] url: expected a string, got 7420\n`);
  });

  it("names the file, key and expected type of a malformed server config, and does not start", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cook-cli-"));
    const file = join(dir, "config.toml");
    writeFileSync(file, '[server]\nport = "eighty"\n');
    const result = await runCli(["serve", "--config", file], { env: { COOK_DATA_DIR: join(dir, "data") } });
    assert.equal(result.code, 1);
    assert.equal(result.stderr, `cook: ${file}: [server] port: expected an integer, got "eighty"\n`);
  });

  it("points at the line of a TOML syntax error", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cook-cli-"));
    const file = join(dir, "config.toml");
    writeFileSync(file, "[server]\nhost = 127.0.0.1\n");
    const result = await runCli(["serve", "--config", file], { env: { COOK_DATA_DIR: join(dir, "data") } });
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`^cook: ${file}:2:\\d+: invalid TOML`));
    assert.equal(result.stderr.trim().split("\n").length, 1);
  });
});

describe("cook CLI against a server", () => {
  let cook: RunningCook;
  before(async () => {
    cook = await startCook();
  });
  after(() => cook?.stop());

  it("reports health as text and as JSON", async () => {
    const text = await cook.cli(["status"]);
    assert.equal(text.code, 0);
    assert.match(text.stdout, /^server {2}http:\/\/127\.0\.0\.1:\d+ {2}ok/);
    const json = await cook.cli(["status", "--json"]);
    assert.equal(JSON.parse(json.stdout).store.kind, "pglite");
  });

  it("publishes a custom event and lists it as text and JSON", async () => {
    const published = await cook.cli(["events", "publish", "cli-shop", "deployed", "--branch", "fix/typo", "--data", '{"n":1}']);
    assert.equal(published.code, 0, published.stderr);
    const listed = await cook.cli(["events", "--subject", "cook.custom.cli-shop.>"]);
    assert.match(listed.stdout, /^#\d+ +\S+ \S+ +custom\.deployed +cli-shop\/fix\/typo +\{"n":1,"by":"local"\}\n$/);
    const json = await cook.cli(["events", "--subject", "cook.custom.cli-shop.>", "--json"]);
    const event = JSON.parse(json.stdout) as { subject: string; branch: string };
    assert.deepEqual([event.subject, event.branch], ["cook.custom.cli-shop.deployed", "fix/typo"]);
  });

  it("stops quietly when the reader closes the pipe (cook events | head -1)", async () => {
    for (let i = 0; i < 40; i++) assert.equal((await cook.cli(["events", "publish", "cli-pipe", "tick", "--data", JSON.stringify({ i, pad: "x".repeat(2000) })])).code, 0);
    const child = spawn(process.execPath, [cookBin, "events", "-n", "500", "--subject", "cook.custom.cli-pipe.>"], { env: cleanEnv({ COOK_SERVER: cook.url }), stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.stdout.once("data", () => child.stdout.destroy()); // head -1: one read, then the pipe is gone
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    assert.equal(stderr, "", "no stack trace");
    assert.equal(code, 0);
  });

  it("refuses bad input with one line on stderr and exit 1, recording nothing", async () => {
    for (const args of [["events", "publish", "cli-bad", "Bad Name"], ["events", "publish", "cli-bad", "ok", "--data", "{nope"], ["events", "--subject", "cook..x"]]) {
      const result = await cook.cli(args);
      assert.equal(result.code, 1, args.join(" "));
      assert.match(result.stderr, /^cook: [^\n]+\n$/, args.join(" "));
    }
    const listed = await cook.cli(["events", "--subject", "cook.custom.cli-bad.>", "--json"]);
    assert.equal(listed.stdout, "");
  });

  it("refuses an empty name or id, which would name another route, with one line and exit 1", async () => {
    const commands = [["task", "show", ""], ["task", "close", ""], ["task", "edit", "", "--set", "title=x"], ["branch", "show", ""], ["branch", "merge", ""], ["branch", "log", ""], ["autopilot", "status", ""], ["stage", "list", ""], ["plan", "show", ""]];
    for (const args of commands) {
      const result = await cook.cli(args);
      assert.deepEqual([result.code, result.stderr], [1, "cook: a name or id given is empty\n"], args.join(" "));
    }
  });

  it("follows new events until interrupted", async () => {
    const follower = spawn(process.execPath, [cookBin, "events", "--follow", "--limit", "0", "--subject", "cook.custom.cli-follow.>"], {
      env: cleanEnv({ COOK_SERVER: cook.url }),
    });
    let output = "";
    follower.stdout.on("data", (chunk) => (output += chunk));
    try {
      // The follower only sees events after it connected; publish until the first one shows up.
      await eventually(async () => {
        await cook.cli(["events", "publish", "cli-follow", "ping"]);
        return output.includes("custom.ping") || undefined;
      }, 15_000, "the follower to print an event");
      await cook.cli(["events", "publish", "cli-follow", "pong"]);
      await eventually(() => output.includes("custom.pong") || undefined, 10_000, "the second event");
    } finally {
      follower.kill("SIGINT");
    }
    const code = await new Promise((resolve) => follower.on("exit", resolve));
    assert.equal(code, 0);
    const lines = output.trim().split("\n");
    assert.ok(lines.every((line) => /custom\.(ping|pong)/.test(line)), output);
    assert.match(lines.at(-1)!, /custom\.pong/);
  });
});
