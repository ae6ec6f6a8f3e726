import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startCook, type RunningCook } from "../../helpers/cook.js";

interface Answer {
  status: number;
  body: { error?: { code: string; message: string }; task?: { id: string } };
}

describe("the task API refuses text PostgreSQL cannot store and text past its limit", () => {
  let cook: RunningCook;

  before(async () => {
    cook = await startCook();
    assert.equal((await cook.cli(["repo", "add", "myapp"])).code, 0);
    assert.equal((await cook.cli(["task", "create", "myapp", "--title=Existing", "--id=existing"])).code, 0);
  });
  after(() => cook?.stop());

  const call = async (method: string, path: string, body?: unknown): Promise<Answer> => {
    const response = await fetch(`${cook.url}${path}`, { method, headers: { "Content-Type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as Answer["body"] };
  };
  const tasks = async () => (await call("GET", "/api/tasks")).body;
  const unprocessable = (answer: Answer, message: string) => {
    assert.equal(answer.status, 422, JSON.stringify(answer.body));
    assert.deepEqual(answer.body.error, { code: "invalid", message });
  };

  it("answers 422 for a NUL character in any field, on create, change, import and lookup, and stores nothing", async () => {
    const before = await tasks();
    const task = { repo: "myapp", title: "ok" };
    unprocessable(await call("POST", "/api/tasks", { ...task, title: "a\u0000b" }), "title cannot contain a NUL character");
    unprocessable(await call("POST", "/api/tasks", { ...task, body: "a\u0000b" }), "body cannot contain a NUL character");
    unprocessable(await call("POST", "/api/tasks", { ...task, id: "a\u0000" }), "id cannot contain a NUL character");
    unprocessable(await call("POST", "/api/tasks", { ...task, repo: "my\u0000app" }), "repo cannot contain a NUL character");
    unprocessable(await call("POST", "/api/tasks", { ...task, dependsOn: ["existing\u0000"] }), "dependsOn[0] cannot contain a NUL character");
    unprocessable(await call("POST", "/api/tasks", { ...task, extra: { "own\u0000er": "x" } }), "a field name cannot contain a NUL character");
    unprocessable(await call("POST", "/api/tasks", { ...task, extra: { owner: ["x\u0000"] } }), "extra.owner[0] cannot contain a NUL character");
    unprocessable(await call("PATCH", "/api/tasks/existing", { title: "a\u0000b" }), "title cannot contain a NUL character");
    unprocessable(await call("PATCH", "/api/tasks/existing", { extra: { owner: "\u0000" } }), "extra.owner cannot contain a NUL character");
    unprocessable(await call("PUT", "/api/tasks/existing/markdown", { markdown: "---\ntitle: ok\n---\nbody \u0000" }), "markdown cannot contain a NUL character");
    unprocessable(await call("POST", "/api/tasks", { markdown: '---\ntitle: "a\\0b"\nrepo: myapp\n---\n' }), "line 2: title cannot contain a NUL character");
    unprocessable(await call("POST", "/api/tasks/import", { files: [{ name: "x.md", text: '---\ntitle: x\nrepo: myapp\nowner: "\\0"\n---\n' }] }), "x.md: extra 'owner' cannot contain a NUL character");
    const badTarget = await call("GET", "/api/tasks/existing%00");
    assert.deepEqual([badTarget.status, badTarget.body.error], [400, { code: "bad_request", message: "the URL's path cannot contain a NUL character" }]);
    unprocessable(await call("GET", "/api/tasks?repo=my%00app"), "query parameter 'repo' cannot contain a NUL character");
    assert.deepEqual(await tasks(), before);
  });

  it("counts a title's length in characters and answers 422 past each limit", async () => {
    const before = await tasks();
    const task = { repo: "myapp", title: "ok" };
    unprocessable(await call("POST", "/api/tasks", { ...task, title: "😀".repeat(201) }), "title is 201 characters; the limit is 200");
    unprocessable(await call("POST", "/api/tasks", { ...task, id: "a".repeat(65) }), "a task id is 65 characters; the limit is 64");
    unprocessable(await call("POST", "/api/tasks", { ...task, repo: "r".repeat(101) }), "repo is 101 characters; the limit is 100");
    unprocessable(await call("POST", "/api/tasks", { ...task, dependsOn: Array.from({ length: 101 }, (_, i) => `t${i}`) }), "depends_on names 101 tasks; the limit is 100");
    unprocessable(await call("POST", "/api/tasks", { ...task, extra: { ["k".repeat(101)]: 1 } }), "an extra key is 101 characters; the limit is 100");
    unprocessable(await call("POST", "/api/tasks", { ...task, extra: { notes: "x".repeat(64 * 1024) } }), "extra is 65548 bytes as JSON; the limit is 65536 (64 KiB)");
    unprocessable(await call("POST", "/api/tasks", { ...task, extra: { a: 1 }, extraYaml: { a: "a: 1\nid: other\n" } }), "extraYaml for 'a' is not a YAML entry of that extra key and its value");
    assert.deepEqual(await tasks(), before);
    const emoji = await call("POST", "/api/tasks", { ...task, title: "😀".repeat(101) });
    assert.equal(emoji.status, 201, JSON.stringify(emoji.body));
  });
});
