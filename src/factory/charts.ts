// Chart geometry for the factory page: pure functions from numbers to boxes, ticks and labels in
// SVG user units, which views/factory/_chart.njk draws. The maths of scales (nice domains, round
// ticks, bands) is d3-scale's; what is left here is layout. Every chart has a fixed viewBox and
// is drawn at width 100%, so it shrinks with the page instead of making it scroll sideways.
import { scaleBand, scaleLinear } from "d3-scale";
import { formatDuration } from "../core/format.js";

/**
 * The viewBox width: 12-unit text is about 9 px on a 375 px phone (the chart's box is some 300 px
 * there) and 16 px in a desktop's half-page column; 480 made it 6.5 px on the phone.
 */
export const chartWidth = 400;

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A labelled position along an axis (x for the horizontal axis, y for the vertical). */
export interface Tick {
  at: number;
  label: string;
}

export interface Bar extends Box {
  /** The series it belongs to: its CSS class (`bar-passed`, `bar-merged`). */
  series: string;
  /** What a pointer over it reads (SVG <title>). */
  title: string;
}

/** A chart over the days of a window: columns, or dots with a mark per day. */
export interface DayChart {
  width: number;
  height: number;
  plot: Box;
  xTicks: Tick[];
  yTicks: Tick[];
  xLabel: string;
  yLabel: string;
  bars: Bar[];
  dots: Array<{ cx: number; cy: number; title: string }>;
  /** Short horizontal lines across a day's column (its median). */
  marks: Array<{ x1: number; x2: number; y: number; title: string }>;
}

const margin = { top: 12, right: 22, bottom: 36, left: 46 };
const dayChartHeight = 220;

const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
/** '2026-12-02' → '2 Dec'. */
export const shortDay = (day: string) => `${Number(day.slice(8, 10))} ${months[Number(day.slice(5, 7)) - 1]}`;

/** At most `count` evenly spaced day labels, always including the last day (today). */
function dayTicks(days: readonly string[], x: (day: string) => number, count = 6): Tick[] {
  const step = Math.max(1, Math.ceil(days.length / count));
  return days.flatMap((day, i) => ((days.length - 1 - i) % step === 0 ? [{ at: x(day), label: shortDay(day) }] : []));
}

/**
 * Ticks of a value axis from 0 to at least `top`: round numbers (d3's nice ticks), whole ones when
 * `whole`, labelled by d3-format: "2.5", and from 10,000 on with an SI prefix ("20k", "1.5M") so
 * that a label stays narrower than the margin it stands in.
 */
function valueAxis(top: number, range: [number, number], whole: boolean) {
  const domainTop = Number.isFinite(top) && top > 0 ? top : 1;
  const count = whole ? Math.min(5, Math.ceil(domainTop)) : 5;
  const scale = scaleLinear().domain([0, domainTop]).nice(count).range(range);
  const niceTop = scale.domain()[1]!;
  const ticks = scale.ticks(whole ? Math.min(5, Math.ceil(niceTop)) : 5).filter((t) => !whole || Number.isInteger(t));
  const format = scale.tickFormat(count, niceTop >= 10_000 ? "~s" : "~r");
  return { scale, ticks: ticks.map((t) => ({ at: scale(t), label: format(t) })) };
}

function dayFrame(days: readonly string[]) {
  const plot: Box = { x: margin.left, y: margin.top, width: chartWidth - margin.left - margin.right, height: dayChartHeight - margin.top - margin.bottom };
  const band = scaleBand<string>().domain(days).range([plot.x, plot.x + plot.width]).paddingInner(days.length > 40 ? 0.15 : 0.25).paddingOuter(0.1);
  return { plot, band, center: (day: string) => band(day)! + band.bandwidth() / 2 };
}

/** One series of a column chart: a CSS class, a name for titles, and a count per day of the chart. */
export interface Series {
  series: string;
  name: string;
  values: readonly number[];
}

/**
 * Columns per day, the series stacked in order from the axis up: counts (whole-number ticks).
 * Days with 0 get no bar; a value of any size fits (the axis grows, niced).
 */
export function dayColumns(days: readonly string[], stack: readonly Series[], labels: { x: string; y: string }): DayChart {
  const { plot, band, center } = dayFrame(days);
  const totals = days.map((_, i) => stack.reduce((sum, s) => sum + (s.values[i] ?? 0), 0));
  const { scale: y, ticks } = valueAxis(Math.max(0, ...totals), [plot.y + plot.height, plot.y], true);
  const bars: Bar[] = [];
  days.forEach((day, i) => {
    let base = 0;
    for (const s of stack) {
      const value = s.values[i] ?? 0;
      if (value <= 0) continue;
      const top = y(base + value);
      bars.push({ x: band(day)!, y: top, width: band.bandwidth(), height: y(base) - top, series: s.series, title: `${day}: ${value} ${s.name}` });
      base += value;
    }
  });
  return { width: chartWidth, height: dayChartHeight, plot, xTicks: dayTicks(days, center), yTicks: ticks, xLabel: labels.x, yLabel: labels.y, bars, dots: [], marks: [] };
}

/** A unit to show durations in: the largest whose values stay readable (up to 120 s in seconds, and so on). */
export interface DurationUnit {
  name: "seconds" | "minutes" | "hours" | "days";
  ms: number;
}

export function durationUnit(maxMs: number): DurationUnit {
  if (!(maxMs > 120_000)) return { name: "seconds", ms: 1000 };
  if (maxMs <= 120 * 60_000) return { name: "minutes", ms: 60_000 };
  if (maxMs <= 48 * 3_600_000) return { name: "hours", ms: 3_600_000 };
  return { name: "days", ms: 86_400_000 };
}

/** A value on a day, in ms, with what its dot's title says. */
export interface DayPoint {
  day: string;
  ms: number;
  title: string;
}

/**
 * Durations per day: a dot for each point (spread across its day's column, so equal values stay
 * apart) and a mark at each day's median. The axis unit follows the largest value (durationUnit).
 * Points on days outside `days` are left out.
 */
export function dayDurations(days: readonly string[], points: readonly DayPoint[], medians: ReadonlyArray<number | undefined>, xLabel: string, yName: string): DayChart {
  const { plot, band, center } = dayFrame(days);
  const inWindow = points.filter((p) => band(p.day) !== undefined && Number.isFinite(p.ms));
  const unit = durationUnit(Math.max(0, ...inWindow.map((p) => p.ms), ...medians.filter((m): m is number => m !== undefined)));
  const { scale: y, ticks } = valueAxis(Math.max(0, ...inWindow.map((p) => p.ms / unit.ms), ...medians.map((m) => (m ?? 0) / unit.ms)), [plot.y + plot.height, plot.y], false);
  const perDay = new Map<string, DayPoint[]>();
  for (const p of inWindow) perDay.set(p.day, [...(perDay.get(p.day) ?? []), p]);
  const dots = [...perDay.entries()].flatMap(([day, list]) =>
    list.map((p, i) => ({ cx: band(day)! + (band.bandwidth() * (i + 1)) / (list.length + 1), cy: y(Math.max(0, p.ms) / unit.ms), title: p.title })),
  );
  const marks = days.flatMap((day, i) => {
    const median = medians[i];
    return median === undefined ? [] : [{ x1: band(day)!, x2: band(day)! + band.bandwidth(), y: y(median / unit.ms), title: `${day}: median ${formatDuration(median)}` }];
  });
  return { width: chartWidth, height: dayChartHeight, plot, xTicks: dayTicks(days, center), yTicks: ticks, xLabel, yLabel: `${yName} (${unit.name})`, bars: [], dots, marks };
}

/** A row of a horizontal bar chart: a label above its bar, a value text at the right. */
export interface RowBar extends Bar {
  label: string;
  labelY: number;
  valueText: string;
  href: string | undefined;
}

export interface RowChart {
  width: number;
  height: number;
  plot: Box;
  xTicks: Tick[];
  xLabel: string;
  rows: RowBar[];
}

const rowHeight = 34;
/** Characters of a label kept beside its value text; the rest is in the bar's title and the table. */
export const maxRowLabel = 40;

/** Cuts text to `max` characters with an ellipsis. */
export function cut(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join("")}…`;
}

/**
 * Horizontal bars, one per row in the order given, lengths on a shared axis from 0 (in the rows'
 * unit: `value` is already scaled, e.g. hours). Labels are cut to fit beside the value text.
 */
export function rowBars(rows: ReadonlyArray<{ label: string; value: number; valueText: string; title: string; href?: string }>, xLabel: string): RowChart {
  const left = 8;
  const plot: Box = { x: left, y: 8, width: chartWidth - left - margin.right, height: rows.length * rowHeight };
  const { scale: x, ticks } = valueAxis(Math.max(0, ...rows.map((r) => r.value)), [plot.x, plot.x + plot.width], false);
  const bars = rows.map((row, i): RowBar => {
    const top = plot.y + i * rowHeight;
    const room = Math.max(8, maxRowLabel - [...row.valueText].length);
    return {
      x: plot.x,
      y: top + 16,
      width: Math.max(1, x(Math.max(0, row.value)) - plot.x),
      height: 12,
      series: "bar-agent",
      title: row.title,
      label: cut(row.label, room),
      labelY: top + 12,
      valueText: row.valueText,
      href: row.href,
    };
  });
  return { width: chartWidth, height: plot.y + plot.height + 30, plot, xTicks: ticks, xLabel, rows: bars };
}
