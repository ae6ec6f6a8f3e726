// The git spawner's own process (see spawner.ts): a small Node process that starts git for the
// server. Each request arrives over IPC with one end of a socket pair as a raw handle (never read
// here), which becomes git's stdin and stdout; git's stderr, exit status and kills go over IPC.
import { spawn, type ChildProcess } from "node:child_process";
import type { SpawnReply, SpawnRequest } from "./spawner.js";

interface RawHandle {
  fd: number;
  close(callback?: () => void): void;
}

const children = new Map<number, ChildProcess>();
const reply = (message: SpawnReply) => process.send?.(message);

function start(request: Extract<SpawnRequest, { type: "spawn" }>, handle: RawHandle): void {
  let child: ChildProcess;
  try {
    // Its own process group, so that a kill takes pack-objects and index-pack along.
    child = spawn(request.command, request.args, { env: request.env, cwd: request.cwd, stdio: [handle.fd, handle.fd, "pipe"], detached: true });
  } catch (err) {
    handle.close();
    reply({ type: "exit", id: request.id, code: null, signal: null, error: (err as Error).message });
    return;
  }
  // git has its own copy of the socket now; ours would keep the server from seeing git's end.
  handle.close();
  children.set(request.id, child);
  if (child.pid !== undefined) reply({ type: "started", id: request.id, pid: child.pid });
  child.stderr?.on("data", (chunk: Buffer) => reply({ type: "stderr", id: request.id, text: chunk.toString("utf8") }));
  child.on("error", (err) => reply({ type: "exit", id: request.id, code: null, signal: null, error: err.message }));
  child.on("close", (code, signal) => {
    children.delete(request.id);
    reply({ type: "exit", id: request.id, code, signal });
  });
}

process.on("message", (request: SpawnRequest, handle?: RawHandle) => {
  if (request.type === "spawn" && handle) start(request, handle);
  else if (request.type === "kill") {
    const child = children.get(request.id);
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      child.kill("SIGKILL");
    }
  }
});

// The server went away (or closed the channel): nothing is left to serve, and git's work dies with it.
process.on("disconnect", () => {
  for (const child of children.values()) if (child.pid) try { process.kill(-child.pid, "SIGKILL"); } catch {}
  process.exit(0);
});
