import { formatDuration, formatUsd } from "../core/format.js";
import { dayColumns, dayDurations, durationUnit, rowBars, type DayChart, type RowChart } from "./charts.js";
import type { FactoryStats } from "./stats.js";

/** The factory page's charts, each undefined when it has nothing to draw (the page says so instead). */
export interface FactoryCharts {
  merged: DayChart | undefined;
  cycle: DayChart | undefined;
  gates: DayChart | undefined;
  agents: RowChart | undefined;
}

const xDay = "day (UTC)";

/** Chart geometry for the numbers of readFactoryStats. */
export function factoryCharts(stats: FactoryStats): FactoryCharts {
  const { days, merged, gates, agents } = stats;
  const agentUnit = durationUnit(Math.max(0, ...agents.top.map((row) => row.durationMs)));
  return {
    merged: merged.total > 0 ? dayColumns(days, [{ series: "bar-merged", name: "merged", values: merged.perDay.map((d) => d.count) }], { x: xDay, y: "tasks merged" }) : undefined,
    cycle:
      merged.total > 0
        ? dayDurations(
            days,
            merged.tasks.map((t) => ({ day: t.day, ms: t.cycleMs, title: `${t.title} (${t.taskId}): ${formatDuration(t.cycleMs)}` })),
            merged.perDay.map((d) => d.medianCycleMs),
            "day merged (UTC)",
            "inbox → merged",
          )
        : undefined,
    gates:
      gates.passed + gates.failed > 0
        ? dayColumns(
            days,
            [
              { series: "bar-passed", name: "passed", values: gates.perDay.map((d) => d.passed) },
              { series: "bar-failed", name: "failed", values: gates.perDay.map((d) => d.failed) },
            ],
            { x: xDay, y: "gate runs" },
          )
        : undefined,
    agents:
      agents.top.length > 0
        ? rowBars(
            agents.top.map((row) => ({
              label: row.title,
              value: row.durationMs / agentUnit.ms,
              valueText: `${formatDuration(row.durationMs)} · ${formatUsd(row.costUsd)}`,
              title: `${row.title} (${row.taskId}): ${formatDuration(row.durationMs)} in ${row.sessions} session${row.sessions === 1 ? "" : "s"}, ${formatUsd(row.costUsd)}`,
              href: `/tasks/${encodeURIComponent(row.taskId)}`,
            })),
            `agent time (${agentUnit.name})`,
          )
        : undefined,
  };
}
