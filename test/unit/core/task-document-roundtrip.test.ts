import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { parseTaskDocument, serializeTask } from "../../../src/core/task-document.js";
import { taskFieldKeys, taskResolutions, taskStatuses, type Task } from "../../../src/core/task.js";

// Pieces that have tripped YAML writers and front-matter splitters: markers, indicators, quotes,
// line ends, number-, null- and date-like words, and characters outside ASCII.
const nasty = fc.constantFrom(
  "---", "...", "--- x", "\n", "\r", "\r\n", "\t", " ", "  ", "#", " #", ": ", ":", "- ", "? ", "'", '"', "\\", "|", ">", "{", "}", "[", "]", ",",
  "&a", "*a", "!tag", "%YAML", "@", "`", "null", "~", "yes", "no", "true", "0008", "42", "1e3", "0x10", ".inf", "-.5", "2018-09-19 15:19:29",
  "é", "😀", "👨‍👩‍👧", "\u2028", "\u0085", "\ufeff", "\u00a0", "\u200b", "\x7f", "\x1b", "<!-- cook: x -->",
);
const piece = fc.oneof(nasty, fc.string({ unit: "binary", maxLength: 8 }), fc.constant("x".repeat(2000)));
// NUL and lone surrogates are refused before a task is ever written, so they are not round-tripped.
const text = fc.array(piece, { maxLength: 10 }).map((parts) => parts.join("")).filter((s) => !s.includes("\0") && !/\p{Cs}/u.test(s));
const line = text.map((s) => s.replace(/[\r\n]/g, " ").trim()).filter((s) => s !== "" && [...s].length <= 200);
const id = fc.oneof(fc.constantFrom("0008", "42", "1e3", "null", "yes", "a-b"), fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,20}$/));
const repo = fc.oneof(fc.constantFrom("2024", "null", "yes", "my.app", "a_b", "0x10"), fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/));
const date = fc.date({ min: new Date("0001-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59Z"), noInvalidDate: true }).map((d) => d.toISOString());
const key = text.filter((k) => !taskFieldKeys.includes(k) && [...k].length <= 100);
const value = fc.letrec((tie) => ({
  json: fc.oneof({ depthSize: "small" }, text, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.boolean(), fc.constant(null), tie("list"), tie("map")),
  list: fc.array(tie("json"), { maxLength: 4 }),
  map: fc.dictionary(key, tie("json"), { maxKeys: 4 }),
})).json;

// A closed task always has a resolution (the database checks it); no other status has one.
const statusAndResolution = fc.oneof(
  fc.constantFrom(...taskStatuses.filter((status) => status !== "closed")).map((status) => ({ status })),
  fc.constantFrom(...taskResolutions).map((resolution) => ({ status: "closed" as const, resolution })),
);

const task: fc.Arbitrary<Task> = fc.tuple(fc.record({
  id,
  title: line,
  priority: fc.integer({ min: 0, max: 4 }),
  repo,
  dependsOn: fc.uniqueArray(id, { maxLength: 5 }),
  body: text,
  createdAt: date,
  updatedAt: date,
  extra: fc.dictionary(key, value, { maxKeys: 6 }),
  extraYaml: fc.constant({}),
}), statusAndResolution, fc.option(id, { nil: undefined })).map(([fields, state, parent]) => ({ ...fields, ...state, ...(parent === undefined ? {} : { parent }) }));

describe("task files round-trip", () => {
  it("reads back every task it writes, field for field, and writes the same file again", () => {
    fc.assert(
      fc.property(task, (original) => {
        const file = serializeTask(original);
        const { extraYaml, ...doc } = parseTaskDocument(file);
        const { extraYaml: _, ...expected } = original;
        // Through JSON, as the API and the database hold it: -0 is 0 there (and in YAML).
        const json = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;
        assert.deepEqual(json(doc), json(expected), file);
        assert.deepEqual(Object.keys(doc.extra), Object.keys(expected.extra));
        assert.equal(serializeTask({ ...original, extraYaml }), file);
      }),
      { numRuns: 200 },
    );
  });
});
