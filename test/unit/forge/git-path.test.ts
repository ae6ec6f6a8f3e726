import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseGitPath } from "../../../src/forge/git-path.js";

describe("parseGitPath", () => {
  it("reads /<repo>.git/<endpoint> for any repo name, reserved or not", () => {
    assert.deepEqual(parseGitPath("/app.git/info/refs"), { repo: "app", endpoint: "info/refs" });
    assert.deepEqual(parseGitPath("/app.git/git-upload-pack"), { repo: "app", endpoint: "git-upload-pack" });
    assert.deepEqual(parseGitPath("/tasks.git/git-receive-pack"), { repo: "tasks", endpoint: "git-receive-pack" });
  });

  it("reads /<repo>/<endpoint> unless <repo> is one of the server's route names, in any case", () => {
    assert.deepEqual(parseGitPath("/app/info/refs"), { repo: "app", endpoint: "info/refs" });
    assert.deepEqual(parseGitPath("/tasks-app/git-upload-pack"), { repo: "tasks-app", endpoint: "git-upload-pack" });
    for (const path of ["/tasks/git-upload-pack", "/tasks/git-receive-pack", "/Tasks/git-upload-pack", "/repos/git-upload-pack", "/api/info/refs", "/public/git-upload-pack", "/%74asks/git-upload-pack"]) {
      assert.equal(parseGitPath(path), undefined, path);
    }
  });

  it("matches nothing else", () => {
    for (const path of ["/app.git", "/app.git/info/refs/", "/a/b.git/info/refs", "/app.git/git-upload-pack/x", "/app.git/objects/info/packs", "/%E0%A4%A/info/refs"]) {
      assert.equal(parseGitPath(path), undefined, path);
    }
  });
});
