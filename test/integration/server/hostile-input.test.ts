import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { makeWorkRepo } from "../../helpers/git.js";
import { rawRequest } from "../../helpers/raw-http.js";

// A battery of malformed requests over every route and field: whatever arrives, the answer is a
// 4xx with a message (or a success), never a 5xx, and the server keeps answering others.

const hostileValues: unknown[] = [
  null,
  true,
  0,
  -1,
  1e308,
  12345678901234567890,
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\r\nid: 1\r\n",
  "\u001b]0;owned\u0007",
  "x".repeat(3000),
  "é".repeat(1000),
  "😀".repeat(101),
  "../../etc/passwd",
  "%00",
  "<script>alert(1)</script>",
  [],
  ["a", { b: 1 }],
  {},
  { toString: "x" },
  { toString: "x", valueOf: "y", toJSON: "z" },
  { __proto__: { polluted: true } },
  { constructor: { prototype: { polluted: true } } },
];

interface BodyRoute {
  method: string;
  path: string;
  fields: string[];
  /** A valid body the hostile value is put into, field by field. */
  base: Record<string, unknown>;
  form?: boolean;
}

const bodyRoutes: BodyRoute[] = [
  { method: "POST", path: "/api/events", fields: ["repo", "name", "branch", "data"], base: { repo: "shop", name: "deployed" } },
  { method: "POST", path: "/api/tasks", fields: ["repo", "title", "priority", "status", "dependsOn", "body", "id", "extra", "markdown", "createdAt"], base: { repo: "shop", title: "hostile" } },
  { method: "PATCH", path: "/api/tasks/target", fields: ["repo", "title", "priority", "status", "dependsOn", "body", "extra"], base: {} },
  { method: "PUT", path: "/api/tasks/target/markdown", fields: ["markdown"], base: { markdown: "---\ntitle: t\nrepo: shop\n---\n" } },
  { method: "POST", path: "/api/tasks/import", fields: ["files"], base: { files: [] } },
  { method: "POST", path: "/api/repos", fields: ["name", "defaultBranch", "clone"], base: { name: "hostile-repo" } },
  { method: "POST", path: "/api/tokens", fields: ["scope", "name"], base: { scope: "user" } },
  { method: "POST", path: "/tasks", fields: ["repo", "title", "priority", "depends_on", "body"], base: { repo: "shop", title: "form" }, form: true },
  { method: "POST", path: "/tasks/target", fields: ["repo", "title", "priority", "depends_on", "body"], base: { repo: "shop", title: "form" }, form: true },
  { method: "POST", path: "/branches/hostile/prompt?repo=shop", fields: ["prompt", "agent"], base: { prompt: "hello" }, form: true },
  { method: "POST", path: "/branches/hostile/interrupt?repo=shop", fields: ["interrupt"], base: {}, form: true },
];

const getRoutes = [
  "/",
  "/events?subject=$",
  "/api/events?subject=$&limit=$&before=$&after=$",
  "/api/tasks?repo=$&status=$&priority=$&ready=$&limit=$",
  "/api/tasks/$",
  "/tasks?repo=$&status=$&priority=$&ready=$&page=$",
  "/tasks/$",
  "/tasks/$/edit",
  "/tasks/new?repo=$",
  "/api/repos/$",
  "/repos/$",
  "/repos/shop/tree/$",
  "/repos/shop/blob/main/$",
  "/repos/shop/raw/main/$",
  "/repos/shop/commits/main/$?page=$",
  "/repos/shop/commit/$",
  "/branches/shop/hostile?tab=$&session=$&before=$",
  "/$.git/info/refs?service=$",
  "/shop.git/info/refs?service=$",
  "/public/$",
];

const hostilePathParts = ["%00", "a%00b", "%E0%A4%A", "%", "%zz", "..%2F..%2Fetc%2Fpasswd", "x".repeat(2000), "%C0%AE%C0%AE", "%F0%9F%98%80", "%0D%0Aid:%201", "main%3A..%2F", "-", "HEAD~1", "main^{tree}", "@{-1}"];

describe("hostile input never gets a 5xx", () => {
  let cook: RunningCook;
  before(async () => {
    cook = await startCook();
    const seed = await makeWorkRepo([{ "README.md": "# shop\n", "src/a.txt": "a\n" }]);
    assert.equal((await cook.cli(["repo", "add", "shop", `--clone=${seed}`])).code, 0);
    assert.equal((await cook.cli(["task", "create", "shop", "--title=target", "--id=target"])).code, 0);
    assert.equal((await cook.cli(["branch", "create", "shop", "hostile", "--env=none"])).code, 0);
  });
  after(() => cook?.stop());

  const serverErrors: string[] = [];
  async function expectNo5xx(label: string, options: Parameters<typeof rawRequest>[1]): Promise<void> {
    const response = await rawRequest(cook.url, options);
    if (response.status >= 500) serverErrors.push(`${label}: ${response.status} ${response.body.slice(0, 200)}`);
    else if (response.status >= 400 && !/\S/.test(response.body)) serverErrors.push(`${label}: ${response.status} with no message`);
  }

  it("answers every field of every JSON and form route with a hostile value without a 5xx", async () => {
    for (const route of bodyRoutes) {
      for (const field of route.fields) {
        for (const value of hostileValues) {
          const body = { ...route.base, [field]: value };
          if (route.form) {
            const form = new URLSearchParams();
            for (const [key, v] of Object.entries(body)) form.append(key, typeof v === "string" ? v : JSON.stringify(v));
            if (value !== null && typeof value === "object") form.append(`${field}[toString]`, "x");
            await expectNo5xx(`${route.method} ${route.path} ${field}=${JSON.stringify(value)?.slice(0, 40)}`, { method: route.method, path: route.path, headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: form.toString() });
          } else {
            await expectNo5xx(`${route.method} ${route.path} ${field}=${JSON.stringify(value)?.slice(0, 40)}`, { method: route.method, path: route.path, headers: { "Content-Type": "application/json", Accept: "application/json" }, body: JSON.stringify(body) });
          }
        }
      }
    }
    assert.deepEqual(serverErrors.splice(0), []);
  });

  it("answers malformed bodies (not JSON, wrong shapes, deep nesting, wrong content types) without a 5xx", async () => {
    const bodies: Array<[string, string]> = [
      ["application/json", ""],
      ["application/json", "{"],
      ["application/json", "null"],
      ["application/json", "[]"],
      ["application/json", '"text"'],
      ["application/json", "42"],
      ["application/json", "\uFEFF{}"],
      ["application/json", "[".repeat(20_000) + "]".repeat(20_000)],
      ["application/json", '{"a":'.repeat(5_000) + "1" + "}".repeat(5_000)],
      ["application/json; charset=latin1", "{}"],
      ["application/x-www-form-urlencoded", "a[b][c][d][e][f][g][h]=1&title[toString]=x"],
      ["application/x-www-form-urlencoded", "%E0%A4%A=1&title=%00"],
      ["text/plain", "hello"],
      ["multipart/form-data; boundary=x", "--x--"],
    ];
    for (const route of bodyRoutes) {
      for (const [type, body] of bodies) {
        await expectNo5xx(`${route.method} ${route.path} as ${type} ${body.slice(0, 20)}`, { method: route.method, path: route.path, headers: { "Content-Type": type, Accept: "application/json" }, body });
      }
    }
    assert.deepEqual(serverErrors.splice(0), []);
  });

  it("answers hostile paths and query values on every page and API route without a 5xx", async () => {
    for (const template of getRoutes) {
      for (const part of hostilePathParts) {
        const path = template.replaceAll("$", part);
        for (const accept of ["application/json", "text/html"]) await expectNo5xx(`GET ${path.slice(0, 80)} (${accept})`, { path, headers: { Accept: accept } });
      }
    }
    assert.deepEqual(serverErrors.splice(0), []);
  });

  it("answers hostile headers without a 5xx", async () => {
    const headerSets: Array<Record<string, string>> = [
      { Authorization: "Basic !!!" },
      { Authorization: "Basic " + Buffer.from("user:").toString("base64") },
      { Authorization: "Bearer" },
      { Authorization: "Bearer " + "x".repeat(8000) },
      { Authorization: "Digest a=b" },
      { "Content-Encoding": "gzip", "Content-Type": "application/json" },
      { Accept: "*/*;q=foo" },
      { "Last-Event-ID": "not-a-number" },
      { "Last-Event-ID": "99999999999999999999" },
      { "Git-Protocol": "version=2 x" },
      { "Git-Protocol": "version=2:object-format=sha256:" + "a".repeat(5000) },
      { "X-Request-Id": "\u00ff\u00fe" },
      { Range: "bytes=99999999-" },
      { "If-None-Match": "*" },
    ];
    for (const headers of headerSets) {
      for (const [method, path] of [["GET", "/api/events"], ["GET", "/tasks"], ["POST", "/api/events"], ["GET", "/shop.git/info/refs?service=git-upload-pack"], ["POST", "/shop.git/git-upload-pack"], ["GET", "/repos/shop/raw/main/README.md"]] as const) {
        await expectNo5xx(`${method} ${path} with ${JSON.stringify(headers).slice(0, 60)}`, { method, path, headers, body: method === "POST" ? "not gzip" : undefined });
      }
    }
    assert.deepEqual(serverErrors.splice(0), []);
  });

  it("is still healthy and logged no unhandled error", async () => {
    const health = await fetch(`${cook.url}/healthz`);
    assert.equal(health.status, 200);
    assert.doesNotMatch(cook.output(), /unhandled error/);
  });
});
