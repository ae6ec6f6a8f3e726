import { readdirSync, readFileSync } from "node:fs";

/**
 * Processes whose environment names this agent session (COOK_SESSION_ID, which every process the
 * run starts inherits): the CLI, its tools, and what they started in sessions and process groups of
 * their own (a PTY a CLI opens for its shell tool, a daemon an agent started), which killing the
 * run's process group misses. Read from /proc (Linux); processes we may not read are skipped.
 */
export function processesOfSession(sessionId: string): number[] {
  return processesWithVariable("COOK_SESSION_ID", sessionId);
}

/**
 * Processes whose environment holds `name=value` exactly (a marker every descendant inherits),
 * this process excepted. Read from /proc (Linux); processes we may not read are skipped.
 */
export function processesWithVariable(name: string, value: string): number[] {
  const marker = `${name}=${value}`;
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, "latin1").split("\0").includes(marker)) pids.push(Number(name));
    } catch {
      // Gone already, or not ours to read.
    }
  }
  return pids;
}

/** SIGKILLs every process of the session (processesOfSession); returns how many there were. */
export function killSessionProcesses(sessionId: string): number {
  return killProcesses(processesOfSession(sessionId));
}

/** SIGKILLs the processes; returns how many there were. */
export function killProcesses(pids: readonly number[]): number {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Gone in between.
    }
  }
  return pids.length;
}
