import type { IncomingMessage } from "node:http";

/** The parts of a fetch Response the client uses, over node:http. */
export interface HttpResponse {
  status: number;
  statusText: string;
  ok: boolean;
  /** The body as it arrives, in chunks. */
  body: AsyncIterable<Uint8Array>;
  text(): Promise<string>;
  json(): Promise<unknown>;
}

/**
 * One HTTP(S) request with node:http. The CLI makes one or two requests per run, and Node 20's
 * fetch costs about 0.3 s of start-up (loading undici) on top of the request itself: more than
 * `cook --version` takes in all. node:http (and node:https, with TLS and crypto) load on the first
 * request, not with the CLI: a command that sends none (`--help`, `--version`) starts 20-30 ms sooner.
 * Rejects on a network error (the caller decides what it means), and with an AbortError when
 * `signal` aborts.
 */
export async function sendRequest(url: URL, options: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal }): Promise<HttpResponse> {
  const { request: send } = url.protocol === "https:" ? await import("node:https") : await import("node:http");
  return new Promise((resolve, reject) => {
    const headers = { ...options.headers, ...(options.body === undefined ? {} : { "Content-Length": String(Buffer.byteLength(options.body)) }) };
    // No keep-alive agent: a pooled socket would keep a finished command's process waiting.
    const req = send(url, { method: options.method, headers, agent: false, signal: options.signal }, (res) => resolve(responseOf(res)));
    req.on("error", reject);
    req.end(options.body);
  });
}

function responseOf(res: IncomingMessage): HttpResponse {
  const status = res.statusCode ?? 0;
  const text = async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  };
  return {
    status,
    statusText: res.statusMessage ?? "",
    ok: status >= 200 && status < 300,
    body: res,
    text,
    json: async () => JSON.parse(await text()) as unknown,
  };
}
