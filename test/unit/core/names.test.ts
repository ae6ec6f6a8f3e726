import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkNewRepoName, checkRepoName, isServerRouteName } from "../../../src/core/names.js";

describe("repo names and the server's route names", () => {
  it("refuses a new repo named like a server route, in any case, with the reason", () => {
    for (const name of ["tasks", "TASKS", "api", "healthz", "public"]) {
      assert.throws(() => checkNewRepoName(name), { name: "CookError", code: "invalid", message: new RegExp(`^'${name}' cannot be a repo name: /${name.toLowerCase()} is one of the factory's own pages`) });
    }
    assert.equal(checkNewRepoName("tasks-app"), "tasks-app");
    assert.equal(checkNewRepoName("git-upload-pack"), "git-upload-pack");
  });

  it("refuses a new repo named new, whose home page would be the New repo form", () => {
    for (const name of ["new", "NEW"]) {
      assert.throws(() => checkNewRepoName(name), { name: "CookError", code: "invalid", message: new RegExp(`^'${name}' cannot be a repo name: /repos/new is the factory's page for making repos`) });
    }
    assert.equal(checkNewRepoName("new-app"), "new-app");
  });

  it("keeps an existing repo of such a name a valid name, so it stays reachable at <name>.git", () => {
    assert.equal(checkRepoName("tasks"), "tasks");
    assert.equal(isServerRouteName("Repos"), true);
    assert.equal(isServerRouteName("repos.git"), false);
  });

  it("checks the ordinary rule before the reserved one", () => {
    assert.throws(() => checkNewRepoName("../tasks"), { code: "invalid", message: /is not a valid repo name/ });
  });
});
