import { readFileSync, readlinkSync } from "node:fs";

/**
 * Where a thread's CPU time can be read, and how much it had used when asked: a render job's
 * budget counts the CPU its worker thread spends, not wall time, which a busy machine (a factory
 * running agents and gates beside its pages) stretches many times over for a thread at nice 10.
 */
export interface ThreadCpuClock {
  /** /proc/<pid>/task/<tid>/stat of the thread. */
  stat: string;
  /** CPU time (user + system) the thread had used, ms, when the clock was read. */
  cpuMs: number;
}

// proc(5): utime and stime are in clock ticks of USER_HZ, which Linux fixes at 100 a second for /proc.
const msPerTick = 10;

/** CPU time (user + system) a thread has used, ms, from its stat file (proc(5) fields 14 and 15); undefined once it is gone. */
export function threadCpuMs(stat: string): number | undefined {
  try {
    // The command name (field 2) may hold spaces and parentheses: the fields after it start at the last ") ".
    const text = readFileSync(stat, "latin1");
    const fields = text.slice(text.lastIndexOf(") ") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * msPerTick;
  } catch {
    return undefined;
  }
}

/** The calling thread's CPU clock, or undefined where /proc has none (not Linux). */
export function ownThreadCpuClock(): ThreadCpuClock | undefined {
  try {
    const stat = `/proc/${readlinkSync("/proc/thread-self")}/stat`;
    const cpuMs = threadCpuMs(stat);
    return cpuMs === undefined ? undefined : { stat, cpuMs };
  } catch {
    return undefined;
  }
}
