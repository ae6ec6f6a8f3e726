import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { chartWidth, cut, dayColumns, dayDurations, durationUnit, rowBars, shortDay } from "../../../src/factory/charts.js";
import { windowOf } from "../../../src/factory/stats.js";

const days = windowOf(30, new Date("2026-12-02T10:00:00Z")).days;
const zeros = () => days.map(() => 0);
const inside = (chart: { width: number; height: number }, x: number, y: number) => x >= 0 && x <= chart.width && y >= 0 && y <= chart.height;

describe("chart geometry", () => {
  it("takes the window as whole UTC days ending today", () => {
    const window = windowOf(7, new Date("2026-12-02T23:59:59Z"));
    assert.deepEqual([window.days[0], window.days.at(-1), window.days.length], ["2026-11-26", "2026-12-02", 7]);
    assert.equal(window.since.toISOString(), "2026-11-26T00:00:00.000Z");
    assert.equal(window.until.toISOString(), "2026-12-03T00:00:00.000Z");
  });

  it("draws no column for days without a value, and labels the axis from 0 with whole numbers", () => {
    const chart = dayColumns(days, [{ series: "bar-merged", name: "merged", values: zeros() }], { x: "day", y: "tasks" });
    assert.deepEqual(chart.bars, []);
    assert.deepEqual(chart.yTicks.map((t) => t.label), ["0", "1"]);
    assert.equal(chart.width, chartWidth);
  });

  it("gives one value one column as tall as the plot, on its day, with a title", () => {
    const values = zeros();
    values[29] = 1;
    const chart = dayColumns(days, [{ series: "bar-merged", name: "merged", values }], { x: "day", y: "tasks" });
    assert.equal(chart.bars.length, 1);
    const bar = chart.bars[0]!;
    assert.equal(bar.title, "2026-12-02: 1 merged");
    assert.ok(Math.abs(bar.y - chart.plot.y) < 1e-9 && Math.abs(bar.y + bar.height - (chart.plot.y + chart.plot.height)) < 1e-9);
    assert.ok(bar.x > chart.plot.x + chart.plot.width * 0.9, "the last day is at the right");
    assert.equal(chart.xTicks.at(-1)!.label, "2 Dec", "today is always labelled");
    assert.ok(chart.xTicks.length <= 6);
  });

  it("stacks series in order from the axis up, and makes the axis nice and whole", () => {
    const passed = zeros();
    const failed = zeros();
    passed[10] = 3;
    failed[10] = 4;
    const chart = dayColumns(days, [{ series: "bar-passed", name: "passed", values: passed }, { series: "bar-failed", name: "failed", values: failed }], { x: "day", y: "runs" });
    const [low, high] = chart.bars;
    assert.deepEqual([low!.series, high!.series], ["bar-passed", "bar-failed"]);
    assert.ok(Math.abs(high!.y + high!.height - low!.y) < 1e-9, "the second sits on the first");
    assert.ok(high!.height > low!.height);
    assert.ok(chart.yTicks.every((t) => Number.isInteger(Number(t.label))));
    assert.equal(chart.yTicks.at(-1)!.label, "7");
    // Ten and up read as numbers, never as 1e+1.
    const tens = dayColumns(["2026-12-01", "2026-12-02"], [{ series: "bar-merged", name: "merged", values: [10, 40] }], { x: "day", y: "tasks" });
    assert.ok(tens.yTicks.every((t) => /^\d+$/.test(t.label)), tens.yTicks.map((t) => t.label).join(" "));
    assert.ok(Math.abs(chart.yTicks.at(-1)!.at - high!.y) < 1e-9, "the top tick at the top of the column");
  });

  it("keeps huge values inside the chart with short labels", () => {
    const values = zeros();
    values[0] = 123_456_789;
    const chart = dayColumns(days, [{ series: "bar-merged", name: "merged", values }], { x: "day", y: "tasks" });
    assert.ok(chart.bars.every((b) => inside(chart, b.x, b.y) && inside(chart, b.x + b.width, b.y + b.height)));
    assert.ok(chart.yTicks.every((t) => t.label.length <= 5), chart.yTicks.map((t) => t.label).join(" "));
    assert.equal(chart.yTicks.at(-1)!.label, "140M");
  });

  it("chooses the duration unit by the largest value", () => {
    assert.deepEqual([0, 90_000, 3_600_000, 86_400_000, 30 * 86_400_000].map((ms) => durationUnit(ms).name), ["seconds", "seconds", "minutes", "hours", "days"]);
  });

  it("spreads a day's dots across its column and marks its median", () => {
    const points = [5, 10, 15].map((minutes) => ({ day: "2026-12-01", ms: minutes * 60_000, title: `${minutes}` }));
    const medians = days.map((day) => (day === "2026-12-01" ? 600_000 : undefined));
    const chart = dayDurations(days, [...points, { day: "2025-01-01", ms: 1, title: "outside the window" }], medians, "day", "cycle time");
    assert.equal(chart.yLabel, "cycle time (minutes)");
    assert.equal(chart.dots.length, 3, "the point outside the window is left out");
    assert.equal(new Set(chart.dots.map((d) => d.cx)).size, 3);
    assert.deepEqual(chart.dots.map((d) => d.cy), [...chart.dots.map((d) => d.cy)].sort((a, b) => b - a), "longer is higher");
    assert.equal(chart.marks.length, 1);
    assert.equal(chart.marks[0]!.title, "2026-12-01: median 10 min 0 s");
    assert.ok(chart.dots.every((d) => inside(chart, d.cx, d.cy)));
  });

  it("draws an empty duration chart without failing", () => {
    const chart = dayDurations(days, [], days.map(() => undefined), "day", "cycle time");
    assert.deepEqual([chart.dots, chart.marks, chart.yLabel], [[], [], "cycle time (seconds)"]);
  });

  it("lays rows out top to bottom with bars proportional to their values and labels cut to fit", () => {
    const title = `Title${"T".repeat(195)}`;
    const chart = rowBars([
      { label: title, value: 4, valueText: "4 h · $1.00", title },
      { label: "short", value: 1, valueText: "1 h · $0", title: "short", href: "/tasks/short" },
    ], "agent time (hours)");
    const [long, short] = chart.rows;
    assert.ok(long!.labelY < short!.labelY);
    assert.ok(Math.abs(long!.width / short!.width - 4) < 0.01);
    assert.ok(long!.x + long!.width <= chart.width);
    assert.ok([...long!.label].length <= 40 && long!.label.endsWith("…"));
    assert.equal(long!.title, title, "the whole title is in the bar's title");
    assert.equal(short!.label, "short");
    assert.equal(short!.href, "/tasks/short");
  });

  it("cuts by characters, not UTF-16 units, and shows short days", () => {
    assert.equal(cut("😀😀😀😀", 3), "😀😀…");
    assert.equal(cut("abc", 3), "abc");
    assert.equal(shortDay("2026-01-09"), "9 Jan");
  });
});
