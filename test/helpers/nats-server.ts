import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface NatsServer {
  url: string;
  port: number;
  storeDir: string;
  /** Starts it again on the same port and JetStream store after stop(). */
  start(): Promise<void>;
  /** Shuts it down gracefully (JetStream flushes its store) and waits for the process to exit. */
  stop(): Promise<void>;
  /** Ends the process if it still runs and removes the store; for `after`. */
  kill(): Promise<void>;
}

const binary = existsSync("/usr/sbin/nats-server") ? "/usr/sbin/nats-server" : "nats-server";
const readyTimeoutMs = 10_000;
const stopTimeoutMs = 10_000;

async function sparePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (!address || typeof address === "string") throw new Error("no spare port");
  return address.port;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** A nats-server of the test's own, with JetStream, on a spare loopback port. */
export async function startNatsServer(): Promise<NatsServer> {
  const storeDir = await mkdtemp(join(tmpdir(), "cook-nats-"));
  let port = 0;
  let child: ChildProcess | undefined;
  // Should the test process die without running `after`, the server must not outlive it.
  const killOnExit = () => child?.kill("SIGKILL");
  process.once("exit", killOnExit);

  async function launch(): Promise<void> {
    const proc = spawn(binary, ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", storeDir], { stdio: ["ignore", "ignore", "pipe"] });
    child = proc;
    let log = "";
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => fail(new Error(`nats-server did not become ready in ${readyTimeoutMs} ms:\n${log}`)), readyTimeoutMs);
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => fail(new Error(`nats-server exited (${signal ?? code}) before it was ready:\n${log}`));
      function settle() {
        settled = true;
        clearTimeout(timer);
        proc.off("exit", onExit);
      }
      function fail(err: Error) {
        if (settled) return;
        settle();
        proc.kill("SIGKILL");
        reject(err);
      }
      proc.once("error", (err) => fail(new Error(`cannot run ${binary}: ${err.message}`)));
      proc.once("exit", onExit);
      // Read to the end, not only until ready, so the server never blocks on a full pipe.
      proc.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
        log = (log + chunk).slice(-8000);
        // Logged once the client listener and JetStream are both up.
        if (!settled && log.includes("Server is ready")) {
          settle();
          resolve();
        }
      });
    });
  }

  async function stopWith(signal: NodeJS.Signals): Promise<void> {
    const proc = child;
    if (!proc) return;
    const gone = exited(proc);
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill("SIGKILL"), stopTimeoutMs);
    await gone;
    clearTimeout(timer);
    child = undefined;
  }

  // Another process may take the spare port between probing and binding it: try a few.
  for (let attempt = 1; ; attempt++) {
    port = await sparePort();
    try {
      await launch();
      break;
    } catch (err) {
      child = undefined;
      if (attempt === 3) {
        process.off("exit", killOnExit);
        await rm(storeDir, { recursive: true, force: true });
        throw err;
      }
    }
  }

  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    async start() {
      if (child) throw new Error("nats-server is already running");
      await launch();
    },
    stop: () => stopWith("SIGTERM"),
    async kill() {
      await stopWith("SIGKILL");
      process.off("exit", killOnExit);
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}
