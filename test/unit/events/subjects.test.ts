import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { checkPattern, decodeToken, encodeToken, patternToRegex, subjectMatches, subjects } from "../../../src/events/subjects.js";

const names = [
  "main",
  "fix/typo",
  "feature/deep/nested/branch",
  "v1.2.3",
  "my-repo",
  "snake_case_name",
  "_",
  "__",
  "_2F",
  "with space",
  " leading and trailing ",
  "tab\there",
  "*",
  ">",
  "a.*.>",
  "café",
  "日本",
  "🍳 cook",
  "e\u0301", // é as e + combining accent: a different name from "é", and must stay different
  "",
];

describe("encodeToken and decodeToken", () => {
  it("decode what they encode, for names with slashes, dots, spaces, wildcards, unicode and the empty name", () => {
    for (const name of names) {
      assert.equal(decodeToken(encodeToken(name)), name, `round trip of ${JSON.stringify(name)}`);
    }
  });

  it("produce tokens of letters, digits, `_` and `-` only, which NATS accepts as one subject token", () => {
    for (const name of names) {
      assert.match(encodeToken(name), /^[A-Za-z0-9_-]+$/, `token for ${JSON.stringify(name)}`);
    }
  });

  it("give different names different tokens", () => {
    const tokens = names.map(encodeToken);
    assert.equal(new Set(tokens).size, names.length);
  });

  it("leave plain names readable and escape the rest as UTF-8 bytes", () => {
    assert.equal(encodeToken("my-repo2"), "my-repo2");
    assert.equal(encodeToken("fix/typo"), "fix_2Ftypo");
    assert.equal(encodeToken("v1.2"), "v1_2E2");
    assert.equal(encodeToken("a_b"), "a_5Fb");
    assert.equal(encodeToken("é"), "_C3_A9");
    assert.equal(encodeToken(""), "_");
  });

  it("decodeToken refuses malformed tokens as invalid", () => {
    const malformed = ["", "a.b", "a b", "*", ">", "a_", "a_2", "a_ZZ", "a_2f", "__", "a/b", "日本", "_C3", "_FF"];
    for (const token of malformed) {
      assert.throws(() => decodeToken(token), { name: "CookError", code: "invalid" }, `token ${JSON.stringify(token)}`);
    }
  });
});

describe("subjectMatches", () => {
  // [pattern, subject, matches]
  const cases: Array<[string, string, boolean]> = [
    ["cook.branch.app.main.pushed", "cook.branch.app.main.pushed", true],
    ["cook.branch.app.main.pushed", "cook.branch.app.main.merged", false],
    ["cook.branch.app.main.pushed", "cook.branch.app.main", false],
    ["cook.branch.app.main", "cook.branch.app.main.pushed", false],
    ["cook.branch.app.*.pushed", "cook.branch.app.main.pushed", true],
    ["cook.branch.app.*.pushed", "cook.branch.app.fix_2Ftypo.pushed", true],
    ["cook.branch.app.*.pushed", "cook.branch.app.a.b.pushed", false],
    ["cook.branch.app.*.pushed", "cook.branch.app.pushed", false],
    ["cook.*.app.*.*", "cook.gate.app.main.passed", true],
    ["cook.*", "cook.branch", true],
    ["cook.*", "cook.branch.app", false],
    ["cook.*", "cook", false],
    ["cook.>", "cook.branch", true],
    ["cook.>", "cook.branch.app.main.pushed", true],
    ["cook.>", "cook", false],
    ["cook.>", "other.branch", false],
    ["cook.*.app.>", "cook.gate.app.main.lint.passed", true],
    ["cook.*.app.>", "cook.repo.app.created", true],
    ["cook.*.app.>", "cook.repo.app", false],
    ["cook.*.app.>", "cook.repo.app2.created", false],
    [">", "cook.branch.app.main.pushed", true],
    ["*", "cook", true],
    ["*", "cook.branch", false],
    ["cook.branch.my-app.>", "cook.branch.my-app.main.pushed", true],
    ["cook.branch.my-app.>", "cook.branch.myXapp.main.pushed", false],
    ["cook.branch.a_2Eb.>", "cook.branch.a_2Eb.main.pushed", true],
    ["cook.branch.a_2Eb.>", "cook.branch.aX2Eb.main.pushed", false],
  ];

  it("matches `*` to exactly one token and `>` to one or more trailing tokens", () => {
    for (const [pattern, subject, expected] of cases) {
      assert.equal(subjectMatches(pattern, subject), expected, `${pattern} against ${subject}`);
    }
  });

  it("agrees with patternToRegex on every case", () => {
    for (const [pattern, subject, expected] of cases) {
      assert.equal(new RegExp(patternToRegex(pattern)).test(subject), expected, `${patternToRegex(pattern)} against ${subject}`);
    }
  });
});

describe("checkPattern", () => {
  it("accepts exact subjects and patterns with whole-token wildcards", () => {
    for (const pattern of ["cook.branch.app.main.pushed", "cook.*.app.>", "cook.>", ">", "*", "cook.*.*"]) {
      assert.equal(checkPattern(pattern), pattern);
    }
  });

  it("refuses empty tokens, whitespace, wildcards inside tokens and `>` before the end as invalid", () => {
    const bad = ["", ".", "cook.", ".cook", "cook..branch", "cook. branch", "cook.bra nch", "cook.a*", "cook.*a", "cook.a>", "cook.>.pushed", ">.cook", "cook.>>"];
    for (const pattern of bad) {
      assert.throws(() => checkPattern(pattern), { name: "CookError", code: "invalid" }, `pattern ${JSON.stringify(pattern)}`);
      assert.throws(() => patternToRegex(pattern), { name: "CookError", code: "invalid" }, `regex of ${JSON.stringify(pattern)}`);
    }
  });
});

describe("subjects", () => {
  it("put each name into one token, so every branch subject has five tokens whatever the names", () => {
    for (const branch of names) {
      const subject = subjects.branch("my.app", branch, "pushed");
      assert.equal(subject.split(".").length, 5, subject);
      assert.ok(subjectMatches(subjects.ofRepo("my.app"), subject), subject);
      assert.ok(!subjectMatches(subjects.ofRepo("my"), subject), subject);
    }
    assert.equal(subjects.gate("app", "fix/typo", "lint", "passed"), "cook.gate.app.fix_2Ftypo.lint.passed");
  });

  it("match every kind of event of one branch with ofBranch, and nothing of a branch whose name it starts", () => {
    const ofBranch = subjects.ofBranch("app", "fix/typo");
    for (const subject of [subjects.branch("app", "fix/typo", "pushed"), subjects.environment("app", "fix/typo", "output"), subjects.gate("app", "fix/typo", "lint", "passed")]) {
      assert.ok(subjectMatches(ofBranch, subject), subject);
    }
    assert.ok(!subjectMatches(ofBranch, subjects.branch("app", "fix/typo/more", "pushed")));
    assert.ok(!subjectMatches(ofBranch, subjects.branch("other", "fix/typo", "pushed")));
  });

  it("refuse an action that is not a lower-case word as invalid", () => {
    assert.throws(() => subjects.custom("app", "Deployed"), { name: "CookError", code: "invalid" });
    assert.throws(() => subjects.custom("app", "deployed.now"), { name: "CookError", code: "invalid" });
    assert.equal(subjects.custom("app", "deployed"), "cook.custom.app.deployed");
  });
});
