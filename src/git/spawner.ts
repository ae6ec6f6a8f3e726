import { fork, type ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, type Readable, type Writable } from "node:stream";

/** What the server asks of the spawner process (spawner-process.ts). */
export type SpawnRequest =
  | { type: "spawn"; id: number; command: string; args: string[]; env: NodeJS.ProcessEnv; cwd: string | undefined }
  | { type: "kill"; id: number };

/** What the spawner process tells the server. */
export type SpawnReply =
  | { type: "started"; id: number; pid: number }
  | { type: "stderr"; id: number; text: string }
  | { type: "exit"; id: number; code: number | null; signal: NodeJS.Signals | null; error?: string };

/** A process started by the spawner, as much of a ChildProcess as the smart HTTP handler uses. */
export interface SpawnedProcess extends EventEmitter {
  /** One socket is both: git's stdin is its writing side, git's stdout its reading side. */
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  /** Kills the process and its process group (pack-objects, index-pack). */
  kill(): void;
}

export interface GitSpawner {
  spawn(command: string, args: string[], options: { env: NodeJS.ProcessEnv; cwd?: string }): Promise<SpawnedProcess>;
  close(): Promise<void>;
}

/**
 * Starts git from a small helper process instead of the server. Node forks to spawn, and fork's
 * cost grows with the parent's memory: from the server, whose embedded database makes it large,
 * a spawn took 4-9 ms of the event loop, from a bare Node process 1.5 ms (measured here; see
 * docs/benchmarks.md, "Push latency"). Every push and fetch spawns git twice.
 *
 * Each process gets one end of a fresh socket pair as stdin and stdout (the pair is made by
 * connecting to a listening socket of this process, in a folder only this user can enter); the
 * other end is the server's. The helper never reads it: it receives it as a raw handle and hands
 * its fd to git. Should the helper die, it is started again on the next spawn, and processes in
 * flight end as killed.
 */
export function createGitSpawner(options: { script?: string } = {}): GitSpawner {
  const script = options.script ?? new URL("./spawner-process.js", import.meta.url).pathname;
  const dir = mkdtempSync(join(tmpdir(), "cook-spawner-"));
  const socketPath = join(dir, "pair.sock");
  const accepted: Array<(socket: Socket) => void> = [];
  const processes = new Map<number, { spawned: SpawnedProcess; pid?: number; exited: (code: number | null, signal: NodeJS.Signals | null, error?: string) => void }>();
  let nextId = 1;
  let helper: ChildProcess | undefined;
  let closed = false;

  // Sockets accepted here are one end of a pair: never read (pauseOnConnect), only passed on.
  const server: Server = createServer({ pauseOnConnect: true }, (socket) => {
    const take = accepted.shift();
    if (take) take(socket);
    else socket.destroy();
  });
  const listening = new Promise<void>((resolve, reject) => server.once("error", reject).listen(socketPath, () => resolve()));
  server.unref();
  // The folder goes with the process however it ends (but for SIGKILL), not only through close().
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  process.once("exit", removeDir);

  function startHelper(): ChildProcess {
    const child = fork(script, [], { execArgv: [], stdio: ["ignore", "inherit", "inherit", "ipc"], serialization: "json" });
    child.on("message", (reply: SpawnReply) => {
      const entry = processes.get(reply.id);
      if (!entry) return;
      if (reply.type === "started") entry.pid = reply.pid;
      else if (reply.type === "stderr") entry.spawned.stderr.emit("data", Buffer.from(reply.text));
      else entry.exited(reply.code, reply.signal, reply.error);
    });
    child.on("exit", () => {
      if (helper === child) helper = undefined;
      // Its processes outlive it (each leads a process group of its own): they are ended here.
      for (const entry of processes.values()) {
        killGroup(entry.pid);
        entry.exited(null, "SIGKILL");
      }
    });
    child.on("error", () => {});
    // The helper must not keep the server alive, nor a server's exit wait for it.
    child.unref();
    (child as unknown as { channel?: { unref(): void } }).channel?.unref();
    return child;
  }
  helper = startHelper();

  /** A connected pair of sockets: ours, and the one for the helper. */
  async function socketPair(): Promise<{ ours: Socket; theirs: Socket }> {
    await listening;
    const theirs = new Promise<Socket>((resolve) => accepted.push(resolve));
    const ours = createConnection(socketPath);
    await new Promise<void>((resolve, reject) => ours.once("connect", resolve).once("error", reject));
    return { ours, theirs: await theirs };
  }

  function killGroup(pid: number | undefined): void {
    if (pid === undefined) return;
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // Gone already.
    }
  }

  return {
    async spawn(command, args, spawnOptions) {
      if (closed) throw new Error("the git spawner is closed");
      const { ours, theirs } = await socketPair();
      const id = nextId++;
      const spawned = Object.assign(new EventEmitter(), { stdin: ours as Writable, stdout: ours as Readable, stderr: new PassThrough(), kill }) as SpawnedProcess;
      let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
      let socketClosed = false;
      const finish = () => exit && socketClosed && (processes.delete(id), spawned.stderr.push(null), spawned.emit("close", exit.code, exit.signal));
      ours.once("close", () => void ((socketClosed = true), finish()));
      processes.set(id, {
        spawned,
        exited(code, signal, error) {
          if (exit) return;
          exit = { code, signal };
          if (error) spawned.emit("error", new Error(error));
          // git is gone: what it wrote is read to the end (its end of the socket closed with it),
          // and a socket still open a moment later (something git started kept it) is closed.
          if (ours.readableEnded) ours.destroy();
          else setTimeout(() => ours.destroy(), 2000).unref();
          finish();
        },
      });
      function kill(): void {
        // Directly when the pid is known (the spawner process said so): nothing in between to fail.
        // Once it has exited its pid may be another's.
        const pid = exit ? undefined : processes.get(id)?.pid;
        if (pid !== undefined) killGroup(pid);
        else if (!exit) helper?.send({ type: "kill", id } satisfies SpawnRequest);
        ours.destroy();
      }
      helper ??= startHelper();
      const handle = (theirs as unknown as { _handle: object })._handle;
      const request: SpawnRequest = { type: "spawn", id, command, args, env: spawnOptions.env, cwd: spawnOptions.cwd };
      helper.send(request, handle as never, (err) => {
        theirs.destroy();
        if (err) processes.get(id)?.exited(null, null, `cannot reach the git spawner: ${err.message}`);
      });
      return spawned;
    },
    async close() {
      closed = true;
      helper?.kill();
      await new Promise((resolve) => server.close(resolve));
      process.off("exit", removeDir);
      removeDir();
    },
  };
}
