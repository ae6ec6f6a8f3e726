import { spawn } from "node:child_process";
import { gitEnv } from "./run-git.js";
import type { GitSpawner, SpawnedProcess } from "./spawner.js";

export interface GitRpc {
  child: SpawnedProcess;
  /** Kills git and everything it started (pack-objects, index-pack). */
  kill(): void;
}

/**
 * `git upload-pack|receive-pack --stateless-rpc [--advertise-refs] <dir>` for the smart HTTP
 * handler, in its own process group so that killing it leaves no helper process behind. Started by
 * the spawner process when there is one (a spawn from the server costs it milliseconds of fork).
 */
export async function spawnGitRpc(service: "upload-pack" | "receive-pack", gitDir: string, options: { advertise: boolean; env: NodeJS.ProcessEnv; spawner?: GitSpawner }): Promise<GitRpc> {
  // While hooks run or a pack is prepared git may say nothing for seconds; clients with an idle
  // timeout (isomorphic-git on Node's default agent: 5 s) then hang up and the push is lost. A
  // keepalive packet (side-band clients) every second of silence keeps them waiting.
  const keepalive = ["-c", "receive.keepAlive=1", "-c", "uploadpack.keepAlive=1"];
  const args = [...keepalive, service, "--stateless-rpc", ...(options.advertise ? ["--advertise-refs"] : []), gitDir];
  if (options.spawner) {
    const child = await options.spawner.spawn("git", args, { env: gitEnv(options.env) });
    return { child, kill: () => child.kill() };
  }
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
