import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, afterEach, before, describe, it } from "node:test";
import type { RunningCook } from "../../helpers/cook.js";
import { attach, environmentProcesses, lines, opened, startTerminalFixture } from "../../helpers/terminal-client.js";
import { eventually } from "../../helpers/wait.js";
import WebSocket from "ws";

describe("cook branch attach", () => {
  let cook: RunningCook;
  let env: Record<string, { id: string; path: string }> = {};

  before(async () => {
    ({ cook, env } = await startTerminalFixture());
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
    // cook learns of the resize from SIGWINCH, which keystrokes typed at the same instant can
    // overtake; once it has sent the new size, the remote pty has it before any later keystroke.
    await eventually(async () => {
      mark = t.output().length;
      t.pty.write("stty size; tput cols\r");
      await t.prompt();
      return lines("43 132", "132").test(t.output().slice(mark)) || undefined;
    }, 20_000, "the new size in the remote shell");
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
    const rssBefore = rss();
    ws.pause(); // this client reads no more: only the kernel's socket buffers lie between it and the server
    const yes = environmentProcesses(env["attach-me"]!.id).find((pid) => readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "yes")!;
    // utime + stime (proc(5), fields 14 and 15), in clock ticks.
    const cpu = () => {
      const stat = readFileSync(`/proc/${yes}/stat`, "latin1");
      return stat.slice(stat.lastIndexOf(")") + 2).split(" ").slice(11, 13).reduce((sum, ticks) => sum + Number(ticks), 0);
    };
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    // yes stops once the buffers between it and this client are full; a busy machine fills them
    // slower (a fixed second was too short once), so wait for it to stop, then check it stays stopped.
    await eventually(async () => {
      const before = cpu();
      await sleep(500);
      return cpu() - before <= 2 || undefined;
    }, 20_000, "yes to block once the buffers are full");
    const cpuBefore = cpu();
    await sleep(3000);
    const grown = rss() - rssBefore;
    // Running free, yes takes most of a core (about 300 ticks in 3 s); once paused it may still fill what the
    // kernel's pty and socket buffers drain, a few ticks' worth (5 seen on a busy CI run).
    assert.ok(cpu() - cpuBefore <= 30, `yes ran on (${cpu() - cpuBefore} ticks in 3 s): nothing stopped it`);
    // yes writes hundreds of MB a second: held in the server, the seconds since the pause would be far past this.
    assert.ok(grown < 32 * 1024 * 1024, `the server grew by ${Math.round(grown / 1024 / 1024)} MiB while the client did not read`);
    ws.resume();
    ws.send(Buffer.from("\u0003exit 3\r"), { binary: true });
    const exit = await new Promise<string>((resolve) => ws.on("message", (data: Buffer, isBinary: boolean) => !isBinary && resolve(data.toString("utf8"))));
    assert.deepEqual(JSON.parse(exit), { type: "exit", code: 3 });
  });

});
