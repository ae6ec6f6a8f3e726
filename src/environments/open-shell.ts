import { readdirSync, readFileSync } from "node:fs";
import { spawn as spawnPty, type IPty } from "node-pty";
import type { Branch } from "../core/branch.js";
import { CookError } from "../core/errors.js";
import { processIn } from "./context.js";
import type { EnvironmentDeps } from "./deps.js";
import { usableEnvironment } from "./exec-command.js";

/** A terminal's size in character cells. */
export interface ShellSize {
  cols: number;
  rows: number;
}

/** Sizes a pty accepts here: TIOCSWINSZ takes 16-bit counts; more than this is a mistake, not a screen. */
export const maxShellCells = 1000;

/** An interactive shell in an environment, on a pseudo-terminal of its own. */
export interface Shell {
  /**
   * `listener` gets the bytes the shell and its programs write to the terminal, as they come. What
   * was written before the first listener (the prompt, while a WebSocket handshake completes) is
   * held, up to heldOutputBytes with the shell paused beyond that, and handed to it first.
   */
  onOutput(listener: (chunk: Buffer) => void): void;
  /**
   * `listener` gets the exit status once the shell has ended and its output has been handed over:
   * its exit code, or 128 + the signal that killed it (as shells report it); at once if it has.
   */
  onExit(listener: (code: number) => void): void;
  /** Keystrokes (or a paste) for the terminal; queued while the terminal's input buffer is full. */
  write(data: Buffer): void;
  /** Bytes given to `write` that the terminal has not taken yet. */
  queuedInput(): number;
  /** Sets the window size (TIOCSWINSZ); the shell gets SIGWINCH. Throws invalid outside 1…maxShellCells. */
  resize(size: ShellSize): void;
  /** Stops reading the shell's output (it blocks once the pty's buffer is full); `resume` reads on. */
  pause(): void;
  resume(): void;
  /** Ends the session (idempotent): see openShell. */
  close(): void;
}

// bash -i, not --login: a login shell reads /etc/profile, which on Debian sets PATH from scratch and
// so drops the `cook` shim an environment's processes must find first. sh where bash is missing.
const shellCommand = ["sh", "-c", "if command -v bash >/dev/null 2>&1; then exec bash -i; else exec sh -i; fi"];

// What is left of a session this long after its hang-up is killed.
const hangUpGraceMs = 1000;

/** Output held for a terminal not yet connected; beyond it the shell is paused until it is. */
export const heldOutputBytes = 64 * 1024;

/** Throws invalid unless both counts are whole numbers in 1…maxShellCells. */
export function checkShellSize(size: ShellSize): ShellSize {
  const ok = (n: unknown) => Number.isInteger(n) && (n as number) >= 1 && (n as number) <= maxShellCells;
  if (!ok(size.cols) || !ok(size.rows)) throw new CookError("invalid", `a terminal size is cols and rows, whole numbers from 1 to ${maxShellCells}`);
  return size;
}

/**
 * Starts an interactive shell in the branch's environment (inside the sandbox when it uses one),
 * on a new pty whose session it leads, so the shell has job control. It is registered in
 * `deps.running`: a teardown or shutdown ends it, after telling the terminal why.
 *
 * `close`, a teardown, or the shell's own exit ends the whole session: SIGHUP to the shell (bash
 * passes it on to its jobs), then SIGKILL to every process still in the session — jobs started with
 * `&` or nohup included — once the shell is gone or after a second. A sandbox's processes also end
 * with bwrap (--die-with-parent over its own pid namespace). A program in a local environment that
 * starts a session of its own (setsid, a daemon) is not part of this session and outlives it, as
 * it would outlive `cook branch exec`.
 *
 * Throws as usableEnvironment does (conflict: no live environment, still being set up, lost),
 * invalid for a size outside 1…maxShellCells, and unavailable when no pty can be made.
 */
export async function openShell(deps: EnvironmentDeps, branch: Branch, size: ShellSize): Promise<Shell> {
  checkShellSize(size);
  const environment = await usableEnvironment(deps, branch);
  const spec = processIn(deps, branch, environment, shellCommand, { interactive: true });
  const [file, ...args] = spec.argv;
  let pty: IPty;
  try {
    // encoding null: bytes both ways, so a UTF-8 sequence split across reads reaches the client as it was written.
    pty = spawnPty(file!, args, { name: spec.env.TERM, cols: size.cols, rows: size.rows, cwd: spec.cwd, env: spec.env, encoding: null });
  } catch (err) {
    throw new CookError("unavailable", `cannot start a terminal in the environment of '${branch.name}': ${(err as Error).message}`);
  }
  const sessionId = pty.pid;
  const outputListeners: Array<(chunk: Buffer) => void> = [];
  const exitListeners: Array<(code: number) => void> = [];
  const held: Buffer[] = [];
  let heldBytes = 0;
  let exitCode: number | undefined;
  let exited = false;
  let closing = false;
  let killTimer: NodeJS.Timeout | undefined;

  const abort = new AbortController();
  const running = deps.running.get(environment.id) ?? new Set();
  running.add(abort);
  deps.running.set(environment.id, running);

  // A shell can print its prompt before the connection it is for is ready to take it: kept, not lost.
  const emit = (chunk: Buffer) => {
    if (outputListeners.length > 0) {
      for (const listener of outputListeners) listener(chunk);
      return;
    }
    held.push(chunk);
    heldBytes += chunk.byteLength;
    if (heldBytes > heldOutputBytes) pty.pause();
  };
  pty.onData((chunk) => emit(chunk as unknown as Buffer));
  pty.onExit(({ exitCode: status, signal }) => {
    exited = true;
    running.delete(abort);
    clearTimeout(killTimer);
    killSession(sessionId);
    exitCode = signal ? 128 + signal : status;
    for (const listener of exitListeners) listener(exitCode);
  });

  const close = () => {
    if (closing || exited) return;
    closing = true;
    running.delete(abort);
    signalGroup(sessionId, "SIGHUP");
    killTimer = setTimeout(() => killSession(sessionId), hangUpGraceMs);
  };
  abort.signal.addEventListener("abort", () => {
    const said = Buffer.from("\r\n[cook: the server closed this terminal: its environment is being torn down, or the server is stopping]\r\n");
    emit(said);
    close();
  });

  return {
    onOutput: (listener) => {
      outputListeners.push(listener);
      if (outputListeners.length > 1) return;
      for (const chunk of held.splice(0)) listener(chunk);
      if (heldBytes > heldOutputBytes) pty.resume();
      heldBytes = 0;
    },
    onExit: (listener) => (exitCode === undefined ? void exitListeners.push(listener) : listener(exitCode)),
    write: (data) => {
      if (!exited) pty.write(data as unknown as string);
    },
    queuedInput: () => queuedBytes(pty),
    resize: (next) => {
      checkShellSize(next);
      if (!exited) pty.resize(next.cols, next.rows);
    },
    pause: () => pty.pause(),
    resume: () => pty.resume(),
    close,
  };
}

function signalGroup(leader: number, signal: NodeJS.Signals): void {
  for (const target of [-leader, leader]) {
    try {
      process.kill(target, signal);
    } catch {
      // Already gone.
    }
  }
}

/**
 * SIGKILL to every process of session `sessionId` (proc(5): field 6 of /proc/<pid>/stat). A job
 * of an interactive shell runs in a process group of its own, so killing the shell's group alone
 * would leave it; the session holds them all. The kernel keeps a session's id from being reused
 * while any process is in it, so this cannot reach a stranger.
 */
export function killSession(sessionId: number): void {
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return signalGroup(sessionId, "SIGKILL"); // no procfs: the group is what can be reached
  }
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    } catch {
      continue; // ended meanwhile
    }
    // The command name (field 2) is in parentheses and may itself hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[3]) !== sessionId) continue;
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      // Ended meanwhile.
    }
  }
}

/**
 * node-pty queues what the terminal cannot take yet and retries until it can (lib/unixTerminal.js,
 * CustomWriteStream): the queue is private, read here so the caller can stop reading input
 * instead of letting it grow without bound. 0 if a later node-pty keeps it elsewhere.
 */
function queuedBytes(pty: IPty): number {
  const queue = (pty as unknown as { _writeStream?: { _writeQueue?: Array<{ buffer: Buffer; offset: number }> } })._writeStream?._writeQueue;
  if (!Array.isArray(queue)) return 0;
  let total = 0;
  for (const task of queue) total += task.buffer.byteLength - task.offset;
  return total;
}
