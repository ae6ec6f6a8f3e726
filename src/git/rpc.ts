import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { gitEnv } from "./run-git.js";

export interface GitRpc {
  child: ChildProcessWithoutNullStreams;
  /** Kills git and everything it started (pack-objects, index-pack). */
  kill(): void;
}

/**
 * `git upload-pack|receive-pack --stateless-rpc [--advertise-refs] <dir>` for the smart HTTP
 * handler, in its own process group so that killing it leaves no helper process behind.
 */
export function spawnGitRpc(service: "upload-pack" | "receive-pack", gitDir: string, options: { advertise: boolean; env: NodeJS.ProcessEnv }): GitRpc {
  const args = [service, "--stateless-rpc", ...(options.advertise ? ["--advertise-refs"] : []), gitDir];
  const child = spawn("git", args, { env: gitEnv(options.env), stdio: ["pipe", "pipe", "pipe"], detached: true });
  return {
    child,
    kill() {
      if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        child.kill("SIGKILL");
      }
    },
  };
}
