import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { readSse } from "../../../src/client/sse-reader.js";
import { startCook, type RunningCook } from "../../helpers/cook.js";

async function postJson(url: string, body: string, contentType = "application/json") {
  const response = await fetch(url, { method: "POST", headers: { "Content-Type": contentType, Accept: "application/json" }, body });
  return { status: response.status, body: (await response.json()) as { error?: { code: string; message: string }; event?: { id: number } } };
}

describe("HTTP API", () => {
  let cook: RunningCook;
  before(async () => {
    cook = await startCook();
  });
  after(() => cook?.stop());

  const eventCount = async () => ((await (await fetch(`${cook.url}/api/events?limit=1000`)).json()) as { events: unknown[] }).events.length;

  it("reports store and bus health on /healthz", async () => {
    const response = await fetch(`${cook.url}/healthz`);
    assert.equal(response.status, 200);
    const health = (await response.json()) as { status: string; store: { kind: string; ok: boolean }; bus: { kind: string; ok: boolean; pending: number } };
    assert.equal(health.status, "ok");
    assert.deepEqual([health.store.kind, health.store.ok], ["pglite", true]);
    assert.deepEqual([health.bus.kind, health.bus.ok, health.bus.pending], ["local", true, 0]);
  });

  it("answers a malformed JSON body with 400 and a message, and records nothing", async () => {
    const before = await eventCount();
    const { status, body } = await postJson(`${cook.url}/api/events`, '{"repo": "shop", "name": ');
    assert.equal(status, 400);
    assert.equal(body.error?.code, "bad_request");
    assert.match(body.error?.message ?? "", /not valid JSON/);
    assert.equal(await eventCount(), before);
  });

  it("answers an invalid event with 422 naming the rule, and records nothing", async () => {
    const before = await eventCount();
    const { status, body } = await postJson(`${cook.url}/api/events`, JSON.stringify({ repo: "shop", name: "Not Valid!" }));
    assert.equal(status, 422);
    assert.equal(body.error?.code, "invalid");
    assert.match(body.error?.message ?? "", /lowercase letters/);
    assert.equal(await eventCount(), before);
  });

  it("records a custom event and returns it with 201", async () => {
    const { status, body } = await postJson(`${cook.url}/api/events`, JSON.stringify({ repo: "shop", name: "deployed", data: { version: "2.0" } }));
    assert.equal(status, 201);
    const listed = (await (await fetch(`${cook.url}/api/events?subject=cook.custom.shop.deployed`)).json()) as { events: Array<{ id: number; data: unknown }> };
    assert.deepEqual(listed.events.map((e) => e.id), [body.event!.id]);
    assert.deepEqual(listed.events[0]!.data, { version: "2.0", by: "local" });
  });

  it("answers an unknown API path with a 404 JSON error and an unknown page with an HTML error page", async () => {
    const api = await fetch(`${cook.url}/api/nothing-here`);
    assert.equal(api.status, 404);
    assert.deepEqual(await api.json(), { error: { code: "not_found", message: "no such page: /api/nothing-here" } });

    const page = await fetch(`${cook.url}/nothing-here`, { headers: { Accept: "text/html" } });
    assert.equal(page.status, 404);
    assert.match(page.headers.get("content-type") ?? "", /text\/html/);
    assert.match(await page.text(), /<h1>404 <small>not_found<\/small><\/h1>/);
  });

  it("answers a route asked with a method it does not take with a 405 JSON error naming those it does", async () => {
    const wrong = await fetch(`${cook.url}/api/tasks`, { method: "DELETE" });
    assert.equal(wrong.status, 405);
    assert.match(wrong.headers.get("allow") ?? "", /GET/);
    const body = (await wrong.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, "method_not_allowed");
    assert.match(body.error.message, /^DELETE is not how \/api\/tasks is used: it takes .*GET/);
  });

  it("refuses bad query parameters with 422", async () => {
    for (const query of ["limit=abc", "limit=0", "subject=cook..x", "subject=cook.>.x", "after=-1"]) {
      const response = await fetch(`${cook.url}/api/events?${query}`);
      assert.equal(response.status, 422, query);
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, "invalid");
    }
  });

  it("streams events over SSE after a given id, with ids that let a client resume", async () => {
    const first = (await postJson(`${cook.url}/api/events`, JSON.stringify({ repo: "sse-shop", name: "one" }))).body.event!;
    const controller = new AbortController();
    const response = await fetch(`${cook.url}/api/events/stream?subject=cook.custom.sse-shop.>`, {
      headers: { "Last-Event-ID": String(first.id - 1) },
      signal: controller.signal,
    });
    assert.match(response.headers.get("content-type") ?? "", /^text\/event-stream/);
    const frames = readSse(response.body!);
    const replayed = (await frames.next()).value!;
    assert.equal(replayed.id, String(first.id));
    assert.equal(JSON.parse(replayed.data).type, "custom.one");

    const second = (await postJson(`${cook.url}/api/events`, JSON.stringify({ repo: "sse-shop", name: "two" }))).body.event!;
    const live = (await frames.next()).value!;
    assert.equal(live.id, String(second.id));
    assert.equal(JSON.parse(live.data).type, "custom.two");
    controller.abort();
  });

  it("sends security headers and serves htmx from the factory itself", async () => {
    const page = await fetch(`${cook.url}/events`);
    assert.match(page.headers.get("content-security-policy") ?? "", /script-src 'self'/);
    assert.equal(page.headers.get("x-content-type-options"), "nosniff");
    const html = await page.text();
    assert.match(html, /src="\/public\/vendor\/htmx\.min\.js"/);
    assert.doesNotMatch(html, /https?:\/\/(?!127\.0\.0\.1)/, "no asset from another host");
    const htmx = await fetch(`${cook.url}/public/vendor/htmx.min.js`);
    assert.equal(htmx.status, 200);
    assert.match(htmx.headers.get("content-type") ?? "", /javascript/);
  });

  it("never serves a file outside public/", async () => {
    for (const path of ["/public/../package.json", "/public/%2e%2e/package.json", "/public/..%2fpackage.json", "/public/%2fetc%2fpasswd"]) {
      const response = await fetch(`${cook.url}${path}`);
      assert.equal(response.status, 404, path);
      assert.doesNotMatch(await response.text(), /"name": "cook"|root:/, path);
    }
  });
});
