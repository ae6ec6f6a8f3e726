import { spawn } from "node:child_process";
import { constants } from "node:os";
import { CookError } from "../core/errors.js";
import type { ProcessSpec } from "./process-spec.js";

export interface CommandOutput {
  stdout(chunk: Buffer): void;
  stderr(chunk: Buffer): void;
}

/**
 * Runs a process to its end with stdin closed, streaming its output; resolves with its exit code
 * (128 + signal number when killed, as shells report it). It leads its own process group, so
 * `signal` (a client that went away, a teardown) kills everything it started, not just itself.
 * Throws CookError("unavailable") when the program cannot be started at all.
 */
export function runCommand(spec: ProcessSpec, output: CommandOutput, signal?: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    const [file, ...args] = spec.argv;
    const child = spawn(file!, args, { cwd: spec.cwd, env: spec.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    const killGroup = () => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // Already gone.
      }
    };
    signal?.addEventListener("abort", killGroup, { once: true });
    child.stdout.on("data", (chunk: Buffer) => output.stdout(chunk));
    child.stderr.on("data", (chunk: Buffer) => output.stderr(chunk));
    child.on("error", (err) => {
      signal?.removeEventListener("abort", killGroup);
      reject(new CookError("unavailable", `cannot start ${file}: ${(err as NodeJS.ErrnoException).code ?? err.message}`));
    });
    child.on("close", (code, signalName) => {
      signal?.removeEventListener("abort", killGroup);
      // Whatever the command left running in the background goes with it.
      if (child.pid) killGroup();
      resolve(code ?? 128 + signalNumber(signalName));
    });
  });
}

function signalNumber(name: NodeJS.Signals | null): number {
  return (name && constants.signals[name]) || 1;
}
