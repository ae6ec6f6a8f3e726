#!/usr/bin/env node
// Probe (not run by run-all): why task text limits count code points, not grapheme clusters.
// Counts the characters of strings of growing size both ways and prints the time of each; a count
// whose time grows faster than its input is one a 32 MB JSON request could hold the event loop with.
// On 2026-12-01 (Node 20.20, a loaded 2-core machine): code points stayed under 10 ms up to 128,000
// UTF-16 units; grapheme clusters took 206 ms for 16,000 ASCII characters and 118 s for 128,000
// units of family emoji (the case left out below, so that the probe finishes).
//
//   node scripts/bench/probes/text-length.mjs
import { characterCount } from "../../../dist/src/core/task.js";
import { now, requireBuild, round } from "../lib/common.mjs";

requireBuild();
const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });
const graphemes = (text) => {
  let n = 0;
  for (const _ of segmenter.segment(text)) n++;
  return n;
};
const time = (count, text) => {
  count(text); // warm-up
  const start = now();
  count(text);
  return round(now() - start, 2);
};
for (const [name, unit, repeats] of [["ascii", "a", [1000, 4000, 16000]], ["emoji", "😀", [1000, 4000, 16000]], ["zwj family", "👨‍👩‍👧", [1000, 4000]]]) {
  for (const repeat of repeats) {
    const text = unit.repeat(repeat);
    console.log(`${name.padEnd(10)} ${String(text.length).padStart(6)} UTF-16 units: code points ${time(characterCount, text)} ms, grapheme clusters ${time(graphemes, text)} ms`);
  }
}
