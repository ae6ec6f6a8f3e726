import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { after, afterEach, before, describe, it } from "node:test";
import { spawn, type IPty } from "node-pty";
import WebSocket from "ws";
import { cleanEnv, cookBin, startCook, type RunningCook } from "../../helpers/cook.js";
import { makeWorkRepo } from "../../helpers/git.js";
import { eventually } from "../../helpers/wait.js";

/** `cook branch attach` running in a pseudo-terminal of its own, as a person would run it. */
interface Attached {
  pty: IPty;
  output(): string;
  /** Waits until the output after `from` (an offset into it) matches; returns the match. */
  waitFor(pattern: RegExp, from?: number, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Waits for the remote shell's prompt (readline turning on bracketed paste: it is ready to read). */
  prompt(): Promise<void>;
  exited: Promise<number>;
}

// Kept for the ends of every test: a shell left running here would be a failure of another test.
const opened: Attached[] = [];

function attach(cook: RunningCook, args: string[], options: { env?: Record<string, string>; cols?: number; rows?: number } = {}): Attached {
  const pty = spawn(process.execPath, [cookBin, "branch", "attach", ...args], {
    cols: options.cols ?? 80,
    rows: options.rows ?? 24,
    env: cleanEnv({ COOK_SERVER: cook.url, ...options.env }) as Record<string, string>,
  });
  let output = "";
  let prompts = 0;
  pty.onData((data) => (output += data));
  const exited = new Promise<number>((resolve) => pty.onExit(({ exitCode }) => resolve(exitCode)));
  const attached: Attached = {
    pty,
    output: () => output,
    async waitFor(pattern, from = 0, timeoutMs = 20_000) {
      return eventually(() => pattern.exec(output.slice(from)) ?? undefined, timeoutMs, `${pattern} in the terminal`).catch((err: Error) => {
        throw new Error(`${err.message}; it shows ${JSON.stringify(output.slice(from))}`);
      });
    },
    async prompt() {
      const seen = prompts++;
      await eventually(() => output.split("\u001b[?2004h").length - 1 > seen || undefined, 20_000, `prompt ${seen + 1}`).catch((err: Error) => {
        throw new Error(`${err.message}; the terminal shows ${JSON.stringify(output)}`);
      });
    },
    exited,
  };
  opened.push(attached);
  return attached;
}

/** Matches `lines` as whole lines of terminal output (readline may start a line with CR alone). */
const lines = (...texts: string[]) => new RegExp(`[\r\n]${texts.map((text) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")).join("\r\n")}\r\n`);

/** Processes (pids) of this machine that have `COOK_ENV_ID=<envId>` in their environment: that environment's. */
function environmentProcesses(envId: string): number[] {
  const found: number[] = [];
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, "latin1").split("\0").includes(`COOK_ENV_ID=${envId}`)) found.push(Number(pid));
    } catch {
      // Ended meanwhile, or not ours to read.
    }
  }
  return found;
}

/** A raw WebSocket handshake: "open" once upgraded (then closed), or the HTTP refusal. */
function handshake(url: string, headers: Record<string, string> = {}, origin?: string): Promise<"open" | { status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, "ws"), { headers, origin });
    ws.once("open", () => {
      ws.close();
      resolve("open");
    });
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once("error", reject);
  });
}

describe("cook branch attach", () => {
  let cook: RunningCook;
  const env: Record<string, { id: string; path: string }> = {};

  before(async () => {
    cook = await startCook();
    const seed = await makeWorkRepo([{ "README.md": "# app\n" }]);
    assert.equal((await cook.cli(["repo", "add", "app", `--clone=${seed}`])).code, 0);
    for (const [name, backend] of [["attach-me", "local"], ["other", "local"], ["doomed", "local"], ["boxed", "sandbox"], ["no-env", "none"]] as const) {
      const created = await cook.cli(["branch", "create", "app", name, `--env=${backend}`, "--json"]);
      assert.equal(created.code, 0, created.stderr);
      const environment = (JSON.parse(created.stdout) as { environment?: { id: string; path: string } }).environment;
      if (environment) env[name] = environment;
    }
  });
  afterEach(() => {
    for (const attached of opened.splice(0)) attached.pty.kill("SIGKILL");
  });
  after(() => cook?.stop());

  it("opens a shell in the environment through the server, with its variables, that Ctrl-D leaves with exit 0", async () => {
    const t = attach(cook, ["attach-me"]);
    await t.prompt();
    const mark = t.output().length;
    t.pty.write("echo branch=$COOK_BRANCH in=$PWD\r");
    await t.waitFor(lines(`branch=attach-me in=${env["attach-me"]!.path}`), mark);
    await t.prompt();
    t.pty.write("\u0004");
    assert.equal(await t.exited, 0);
  });

  it("gives the shell the window's size and follows it when the window is resized", async () => {
    const t = attach(cook, ["app/attach-me"], { cols: 90, rows: 30 });
    await t.prompt();
    let mark = t.output().length;
    t.pty.write("stty size\r");
    await t.waitFor(lines("30 90"), mark);
    await t.prompt();
    t.pty.resize(132, 43);
    mark = t.output().length;
    // The resize reaches the remote pty before these keystrokes: both travel the same socket, in order.
    t.pty.write("stty size; tput cols\r");
    await t.waitFor(lines("43 132", "132"), mark);
    t.pty.write("exit\r");
    assert.equal(await t.exited, 0);
  });

  it("exits with the shell's exit status", async () => {
    const t = attach(cook, ["attach-me", "--repo", "app"]);
    await t.prompt();
    t.pty.write("exit 7\r");
    assert.equal(await t.exited, 7);
  });

  it("works without a terminal too: piped input runs, its end is Ctrl-D", async () => {
    const result = await cook.cli(["branch", "attach", "attach-me"], { input: "echo piped-$COOK_BRANCH\nexit 3\n" });
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stdout, lines("piped-attach-me"));
  });

  it("leaves no process of the session behind when the client vanishes, not even jobs that ignore the hang-up", async () => {
    const t = attach(cook, ["attach-me"]);
    await t.prompt();
    const mark = t.output().length;
    t.pty.write("(trap '' HUP; exec sleep 987651) & nohup sleep 987652 >/dev/null 2>&1 & echo started\r");
    await t.waitFor(lines("started"), mark);
    assert.ok(environmentProcesses(env["attach-me"]!.id).length >= 3, "the shell and its two jobs run");
    t.pty.kill("SIGKILL"); // the client dies without a word: only the closed connection tells the server
    await eventually(() => environmentProcesses(env["attach-me"]!.id).length === 0, 10_000, "no process left in the environment");
  });

  it("pauses a shell whose client stops reading, instead of holding its output in the server's memory", async () => {
    const ws = new WebSocket(`${cook.url.replace(/^http/, "ws")}/api/branches/attach-me/terminal`);
    let received = 0;
    let output = "";
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return;
      received += data.length;
      if (output.length < 100_000) output += data.toString("latin1");
    });
    await new Promise((resolve, reject) => (ws.once("open", resolve), ws.once("error", reject)));
    await eventually(() => output.includes("\u001b[?2004h") || undefined, 20_000, "the prompt");
    ws.send(Buffer.from("yes\r"), { binary: true });
    await eventually(() => received > 1_000_000 || undefined, 20_000, "a stream of y");
    const rss = () => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${cook.child.pid}/status`, "utf8"))![1]) * 1024;
    ws.pause(); // this client reads no more: only the kernel's socket buffers lie between it and the server
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const yes = environmentProcesses(env["attach-me"]!.id).find((pid) => readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "yes")!;
    // utime + stime (proc(5), fields 14 and 15), in clock ticks.
    const cpu = () => {
      const stat = readFileSync(`/proc/${yes}/stat`, "latin1");
      return stat.slice(stat.lastIndexOf(")") + 2).split(" ").slice(11, 13).reduce((sum, ticks) => sum + Number(ticks), 0);
    };
    const [rssBefore, cpuBefore] = [rss(), cpu()];
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const grown = rss() - rssBefore;
    assert.ok(cpu() - cpuBefore <= 2, `yes ran on (${cpu() - cpuBefore} ticks in 3 s): nothing stopped it`);
    // yes writes hundreds of MB a second: held in the server, 3 s of it would be far past this.
    assert.ok(grown < 32 * 1024 * 1024, `the server grew by ${Math.round(grown / 1024 / 1024)} MiB while the client did not read`);
    ws.resume();
    ws.send(Buffer.from("\u0003exit 3\r"), { binary: true });
    const exit = await new Promise<string>((resolve) => ws.on("message", (data: Buffer, isBinary: boolean) => !isBinary && resolve(data.toString("utf8"))));
    assert.deepEqual(JSON.parse(exit), { type: "exit", code: 3 });
  });

  it("refuses, in one line with exit 1, a branch without a live environment and one that does not exist", async () => {
    const result = await cook.cli(["branch", "attach", "no-env"]);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, "cook: branch 'no-env' has no live environment; make one with cook branch create --env\n");
    const unknown = await cook.cli(["branch", "attach", "nowhere"]);
    assert.deepEqual([unknown.code, unknown.stderr], [1, "cook: no branch 'nowhere' is tracked\n"]);
  });

  it("lets an agent token attach to its own branch only", async () => {
    const token = (await cook.cli(["branch", "exec", "other", "--", "sh", "-c", 'printf %s "$COOK_TOKEN"'])).stdout;
    assert.ok(token.length > 20);
    const refused = await cook.cli(["branch", "attach", "attach-me"], { env: { COOK_TOKEN: token } });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^cook: an agent token may only work on its own branch \(app\/other\)\n$/);
    assert.deepEqual(environmentProcesses(env["attach-me"]!.id), []);
    const own = await cook.cli(["branch", "attach", "other"], { env: { COOK_TOKEN: token }, input: "exit 5\n" });
    assert.equal(own.code, 5, own.stderr);
  });

  it("refuses a handshake from another site's page and one naming a host it does not answer to, before any shell starts", async () => {
    const url = `${cook.url}/api/branches/attach-me/terminal`;
    const crossOrigin = await handshake(url, {}, "http://evil.example");
    assert.equal(typeof crossOrigin === "object" && crossOrigin.status, 403);
    assert.match((crossOrigin as { body: string }).body, /cross-site request refused/);
    const crossSite = await handshake(url, { "Sec-Fetch-Site": "cross-site" }, new URL(cook.url).origin);
    assert.equal(typeof crossSite === "object" && crossSite.status, 403);
    const rebound = await handshake(url, { Host: `evil.example:${new URL(cook.url).port}` }, `http://evil.example:${new URL(cook.url).port}`);
    assert.equal(typeof rebound === "object" && rebound.status, 421);
    assert.deepEqual(environmentProcesses(env["attach-me"]!.id), []);
    // The factory's own pages are let in.
    assert.equal(await handshake(url, { "Sec-Fetch-Site": "same-origin" }, new URL(cook.url).origin), "open");
  });

  it("runs the shell of a sandbox branch inside its sandbox", async () => {
    const t = attach(cook, ["boxed"]);
    await t.prompt();
    const mark = t.output().length;
    t.pty.write(`id -u; cat ${cook.dataDir}/hook-secret >/dev/null 2>&1 || echo secret-unreadable; sleep 987653 & echo started\r`);
    await t.waitFor(lines("1000", "secret-unreadable"), mark);
    await t.waitFor(lines("started"), mark);
    await t.prompt();
    t.pty.write("exit\r");
    assert.equal(await t.exited, 0);
    await eventually(() => environmentProcesses(env.boxed!.id).length === 0, 10_000, "no process left in the sandbox");
  });

  it("ends the terminal, saying why, when the environment is torn down", async () => {
    const t = attach(cook, ["doomed"]);
    await t.prompt();
    const abandoned = await cook.cli(["branch", "abandon", "doomed"]);
    assert.equal(abandoned.code, 0, abandoned.stderr);
    await t.waitFor(/the server closed this terminal: its environment is being torn down/);
    assert.equal(await t.exited, 129, "the shell was hung up (SIGHUP)");
    assert.deepEqual(environmentProcesses(env.doomed!.id), []);
  });

  it("still shows a branch named <x>/terminal to a plain GET", async () => {
    assert.equal((await cook.cli(["branch", "create", "app", "tools/terminal", "--env=none"])).code, 0);
    const shown = await cook.cli(["branch", "show", "tools/terminal", "--json"]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal((JSON.parse(shown.stdout) as { name: string }).name, "tools/terminal");
  });
});

describe("cook branch attach with [auth] required", () => {
  let cook: RunningCook;
  let admin: string;

  before(async () => {
    cook = await startCook({ config: "[auth]\nrequired = true\n" });
    admin = readFileSync(`${cook.dataDir}/initial-admin-token`, "utf8").trim();
    const seed = await makeWorkRepo([{ "README.md": "# app\n" }]);
    for (const args of [["repo", "add", "app", `--clone=${seed}`], ["branch", "create", "app", "locked", "--env=local"]]) {
      const result = await cook.cli(args, { env: { COOK_TOKEN: admin } });
      assert.equal(result.code, 0, result.stderr);
    }
  });
  after(() => cook?.stop());

  it("asks for a token, refuses a wrong one, and lets a user's token in, as Bearer or as Basic password", async () => {
    const anonymous = await cook.cli(["branch", "attach", "locked"]);
    assert.deepEqual([anonymous.code, anonymous.stderr], [1, "cook: authentication required: send a token (cook token create) as Bearer or Basic password\n"]);
    const wrong = await cook.cli(["branch", "attach", "locked"], { env: { COOK_TOKEN: "cook_not-a-token" } });
    assert.deepEqual([wrong.code, wrong.stderr], [1, "cook: the token is not valid: it is unknown, revoked or malformed\n"]);
    const user = (await cook.cli(["token", "create", "--scope", "user"], { env: { COOK_TOKEN: admin } })).stdout.trim();
    const attached = await cook.cli(["branch", "attach", "locked"], { env: { COOK_TOKEN: user }, input: "exit 2\n" });
    assert.equal(attached.code, 2, attached.stderr);
    const basic = `Basic ${Buffer.from(`me:${user}`).toString("base64")}`;
    assert.equal(await handshake(`${cook.url}/api/branches/app/locked/terminal`, { Authorization: basic }), "open");
  });
});
