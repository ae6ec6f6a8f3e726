/**
 * Crash points for the fault tests that issue 10 asks for ("server killed (SIGKILL) mid-gate and
 * mid-merge → on restart main, the records and the events agree", and issue 11's "killed
 * mid-dispatch → no task has two branches, none stuck in_progress"): with COOK_FAILPOINT naming one
 * of these, the server kills itself with SIGKILL when it gets there, as a power cut would. Unset
 * (always, outside those tests), a failpoint is one comparison.
 */
export type Failpoint = "gate:attempt-started" | "merge:intent-recorded" | "merge:ref-moved" | "autopilot:claimed" | "autopilot:branch-created" | "branch:parent-made";

export function failpoint(name: Failpoint): void {
  if (process.env.COOK_FAILPOINT === name) process.kill(process.pid, "SIGKILL");
}
