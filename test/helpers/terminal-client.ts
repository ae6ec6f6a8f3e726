import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn, type IPty } from "node-pty";
import WebSocket from "ws";
import { cleanEnv, cookBin, startCook, type RunningCook } from "./cook.js";
import { makeWorkRepo } from "./git.js";
import { eventually } from "./wait.js";

/** `cook branch attach` running in a pseudo-terminal of its own, as a person would run it. */
export interface Attached {
  pty: IPty;
  output(): string;
  /** Waits until the output after `from` (an offset into it) matches; returns the match. */
  waitFor(pattern: RegExp, from?: number, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Waits for the remote shell's prompt (readline turning on bracketed paste: it is ready to read). */
  prompt(): Promise<void>;
  exited: Promise<number>;
}

// Kept for the ends of every test: a shell left running here would be a failure of another test.
export const opened: Attached[] = [];

export function attach(cook: RunningCook, args: string[], options: { env?: Record<string, string>; cols?: number; rows?: number } = {}): Attached {
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
    // Generous: on a 2-core machine running the whole suite a shell has taken over 20 s to start.
    async waitFor(pattern, from = 0, timeoutMs = 60_000) {
      return eventually(() => pattern.exec(output.slice(from)) ?? undefined, timeoutMs, `${pattern} in the terminal`).catch((err: Error) => {
        throw new Error(`${err.message}; it shows ${JSON.stringify(output.slice(from))}`);
      });
    },
    async prompt() {
      const seen = prompts++;
      await eventually(() => output.split("\u001b[?2004h").length - 1 > seen || undefined, 60_000, `prompt ${seen + 1}`).catch((err: Error) => {
        throw new Error(`${err.message}; the terminal shows ${JSON.stringify(output)}`);
      });
    },
    exited,
  };
  opened.push(attached);
  return attached;
}

/** Matches `lines` as whole lines of terminal output (readline may start a line with CR alone). */
export const lines = (...texts: string[]) => new RegExp(`[\r\n]${texts.map((text) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")).join("\r\n")}\r\n`);

/** Processes (pids) of this machine that have `COOK_ENV_ID=<envId>` in their environment: that environment's. */
export function environmentProcesses(envId: string): number[] {
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
export function handshake(url: string, headers: Record<string, string> = {}, origin?: string): Promise<"open" | { status: number; body: string }> {
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


/**
 * The environment for a server whose terminals a test drives: HOME is an empty folder, so the
 * shells of local environments do not run this machine's ~/.bashrc (here it starts pyenv, whose
 * rehash lock, left by a shell a test killed, made every later shell wait on it).
 */
export function terminalServerEnv(): Record<string, string> {
  return { HOME: mkdtempSync(join(tmpdir(), "cook-shell-home-")) };
}

/** A server with repo `app` and branches attach-me, other, doomed (local), boxed (sandbox) and no-env, by name → environment. */
export async function startTerminalFixture(): Promise<{ cook: RunningCook; env: Record<string, { id: string; path: string }> }> {
  const env: Record<string, { id: string; path: string }> = {};
  const cook = await startCook({ env: terminalServerEnv() });
  const seed = await makeWorkRepo([{ "README.md": "# app\n" }]);
  assert.equal((await cook.cli(["repo", "add", "app", `--clone=${seed}`])).code, 0);
  for (const [name, backend] of [["attach-me", "local"], ["other", "local"], ["doomed", "local"], ["boxed", "sandbox"], ["no-env", "none"]] as const) {
    const created = await cook.cli(["branch", "create", "app", name, `--env=${backend}`, "--json"]);
    assert.equal(created.code, 0, created.stderr);
    const environment = (JSON.parse(created.stdout) as { environment?: { id: string; path: string } }).environment;
    if (environment) env[name] = environment;
  }
  return { cook, env };
}
