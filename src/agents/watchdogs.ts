import type { AgentBudgets } from "../config/agent-config.js";
import type { AgentEvent } from "../core/agent-event.js";
import type { Branch } from "../core/branch.js";
import { selectBranches } from "../db/branch-store.js";
import { usageOfBranches } from "../db/agent-session-store.js";
import type { AgentDeps, LiveRun, RunStop } from "./deps.js";

export interface Watchdogs {
  /** Every event of the run, in order: output resets the inactivity timer; tool calls are checked for a loop. */
  saw(event: AgentEvent): void;
  /** After usage was stored: stops the run when the task's sessions together went over a budget. */
  checkTaskBudgets(deps: AgentDeps, branch: Branch): Promise<void>;
  close(): void;
}

const minutes = (n: number) => Math.round(n * 60_000);

/**
 * The limits enforced while a run goes on: the time box, the inactivity watchdog, the loop watchdog
 * (the same tool call with the same input N times in a row) and the task's budgets in tokens,
 * turns, minutes and dollars. The inactivity and loop watchdogs ask for a nudge (finish-run.ts
 * resumes once with it); the time box and budgets stop for good.
 */
export function createWatchdogs(budgets: AgentBudgets, live: LiveRun, stop: (why: RunStop) => void): Watchdogs {
  const runTimer = setTimeout(() => stop({ by: "budget", reason: `the run took longer than its time box of ${budgets.runMinutes} minutes` }), minutes(budgets.runMinutes));
  live.timers.add(runTimer);
  let idleTimer: NodeJS.Timeout | undefined;
  const armIdle = () => {
    if (idleTimer) {
      clearTimeout(idleTimer);
      live.timers.delete(idleTimer);
    }
    idleTimer = setTimeout(() => {
      const reason = `no output for ${budgets.idleMinutes} minutes`;
      stop({ by: "watchdog", reason, nudge: `You were stopped because there was ${reason}. If you are stuck, try another way; when the work is done run \`cook done\`, or ask with \`cook ask-for-help\`.` });
    }, minutes(budgets.idleMinutes));
    live.timers.add(idleTimer);
  };
  armIdle();
  let lastCall = "";
  let repeats = 0;
  let lastBudgetCheck = 0;
  return {
    saw(event) {
      armIdle();
      if (event.kind !== "tool_call") return;
      const call = `${event.name}\u0000${JSON.stringify(event.input)}`;
      repeats = call === lastCall ? repeats + 1 : 1;
      lastCall = call;
      if (repeats >= budgets.repeatedToolCalls) {
        const reason = `the same tool call (${event.name}) with the same input ${repeats} times in a row`;
        stop({ by: "watchdog", reason, nudge: `You were stopped because you made ${reason}. That is a loop: change your approach, or run \`cook ask-for-help\` if you are blocked.` });
      }
    },
    async checkTaskBudgets(deps, branch) {
      const limits = budgets;
      if (!branch.taskId || (limits.taskTokens === undefined && limits.taskTurns === undefined && limits.taskMinutes === undefined && limits.taskCostUsd === undefined)) return;
      if (Date.now() - lastBudgetCheck < 200) return;
      lastBudgetCheck = Date.now();
      const branches = await selectBranches(deps.db, { taskId: branch.taskId, limit: 10_000 });
      const used = await usageOfBranches(deps.db, branches.map((b) => b.id));
      const tokens = used.inputTokens + used.outputTokens;
      const over =
        limits.taskTokens !== undefined && tokens > limits.taskTokens
          ? `${tokens} tokens, over the task's budget of ${limits.taskTokens}`
          : limits.taskTurns !== undefined && used.turns > limits.taskTurns
            ? `${used.turns} turns, over the task's budget of ${limits.taskTurns}`
            : limits.taskMinutes !== undefined && used.durationMs + runningMs(live) > minutes(limits.taskMinutes)
              ? `${Math.round((used.durationMs + runningMs(live)) / 60_000)} minutes, over the task's budget of ${limits.taskMinutes}`
              : limits.taskCostUsd !== undefined && used.costUsd > limits.taskCostUsd
                ? `$${used.costUsd.toFixed(2)}, over the task's budget of $${limits.taskCostUsd}`
                : undefined;
      if (over) stop({ by: "budget", reason: `the task used ${over}` });
    },
    close() {
      for (const timer of live.timers) clearTimeout(timer);
    },
  };
}

// The current run's time is not in the totals until it ends.
const runningMs = (live: LiveRun) => Date.now() - live.startedAt;
