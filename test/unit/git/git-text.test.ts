import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { decodeGitText, encodeGitText, isUtf8GitText } from "../../../src/git/git-text.js";
import { decodeUrlPath, encodeUrlPath } from "../../../src/server/routes/web/repo-links.js";

describe("git-text", () => {
  it("reads UTF-8 as UTF-8 and gives back the same bytes", () => {
    for (const text of ["README.md", "café.txt", "日本語/😀.md", "tab\there", ""]) {
      assert.equal(decodeGitText(Buffer.from(text)), text);
      assert.deepEqual(encodeGitText(text), Buffer.from(text));
      assert.ok(isUtf8GitText(text));
    }
  });

  it("keeps every byte of names that are not UTF-8, and shows each stray byte as U+FFFD", () => {
    const latin1 = Buffer.from("r\xe9sum\xe9", "latin1");
    const text = decodeGitText(latin1);
    assert.equal(Buffer.from(text, "utf8").toString(), "r\ufffdsum\ufffd");
    assert.deepEqual(encodeGitText(text), latin1);
    assert.ok(!isUtf8GitText(text));
    // Encoded surrogates, overlong forms and cut sequences are not UTF-8 either.
    for (const bytes of [[0xed, 0xb2, 0x80], [0xc0, 0xaf], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80], [0xff]]) {
      assert.deepEqual(encodeGitText(decodeGitText(Buffer.from(bytes))), Buffer.from(bytes), bytes.join(" "));
    }
  });

  it("round-trips any bytes, through git-text and through a URL", () => {
    for (let i = 0; i < 500; i++) {
      const bytes = randomBytes(1 + (i % 40));
      const text = decodeGitText(bytes);
      assert.deepEqual(encodeGitText(text), bytes);
      assert.deepEqual(encodeGitText(decodeUrlPath(encodeUrlPath(text))), bytes);
    }
  });

  it("builds the links encodeURIComponent would for UTF-8 names, and decodes what browsers send", () => {
    for (const path of ["src/app.ts", 'say "hi".txt', "my notes (1).txt", "café/ü.md", "a*b+c&d?.txt"]) {
      assert.equal(encodeUrlPath(path), path.split("/").map(encodeURIComponent).join("/"));
      assert.equal(decodeUrlPath(encodeUrlPath(path)), path);
    }
    assert.equal(encodeUrlPath(decodeGitText(Buffer.from("caf\xe9", "latin1"))), "caf%E9");
    assert.equal(decodeUrlPath("caf%C3%A9%2"), "café%2");
  });
});
