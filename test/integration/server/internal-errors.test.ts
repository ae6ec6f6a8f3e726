import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pino } from "pino";
import { loadServerConfig } from "../../../src/config/server-config.js";
import { createApp } from "../../../src/server/app.js";
import { createLiveStreams } from "../../../src/server/live/sse.js";
import { createTerminals } from "../../../src/server/live/terminal.js";
import { openServices, type Services } from "../../../src/server/services.js";

describe("unexpected errors", () => {
  let services: Services;
  let server: Server;
  let url: string;
  const logged: Array<Record<string, unknown>> = [];

  before(async () => {
    const config = loadServerConfig({}, { COOK_DATA_DIR: mkdtempSync(join(tmpdir(), "cook-internal-")) });
    const log = pino({ level: "info" }, { write: (line: string) => void logged.push(JSON.parse(line)) });
    services = await openServices(config, log);
    server = createServer(createApp(services, createLiveStreams(services), createTerminals(services)).callback());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // The store going away is the kind of failure no user caused.
    await services.relay.stop();
    await services.db.close();
  });
  after(async () => {
    server?.close();
    await services?.bus.close();
  });

  it("answers 500 with the request id and no stack, and logs the stack", async () => {
    const response = await fetch(`${url}/api/events`);
    assert.equal(response.status, 500);
    const requestId = response.headers.get("x-request-id")!;
    const body = await response.text();
    assert.deepEqual(JSON.parse(body), { error: { code: "internal", message: `internal error (request ${requestId})` } });
    assert.doesNotMatch(body, /\bat \S+ \(|\.js:\d+/);

    const entry = logged.find((line) => line.msg === "unhandled error" && line.requestId === requestId);
    assert.ok(entry, "the error was logged with its request id");
    assert.match(String((entry.err as { stack?: string }).stack), /\n\s+at /);
  });

  it("shows web users an error page, not a stack", async () => {
    const response = await fetch(`${url}/events`, { headers: { Accept: "text/html" } });
    assert.equal(response.status, 500);
    const html = await response.text();
    assert.match(html, /internal error \(request [0-9a-f-]+\)/);
    assert.doesNotMatch(html, /\bat \S+ \(|\.js:\d+/);
  });

  it("reports the store as down on /healthz with 503", async () => {
    const response = await fetch(`${url}/healthz`);
    assert.equal(response.status, 503);
    const health = (await response.json()) as { status: string; store: { ok: boolean } };
    assert.equal(health.status, "down");
    assert.equal(health.store.ok, false);
  });
});
