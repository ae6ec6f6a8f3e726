import WebSocket from "ws";
import type { ClientConfig } from "../config/client-config.js";
import { CookError, errorCodeOfStatus, type ErrorCode } from "../core/errors.js";

/** An open terminal of a branch's environment (the protocol is in server/live/terminal.ts). */
export interface TerminalConnection {
  /** Keystrokes, as bytes. */
  write(data: Buffer): void;
  /** Tells the shell the window's new size in character cells. */
  resize(cols: number, rows: number): void;
  /**
   * `listener` gets what the shell writes, as bytes; what arrived before the first listener (the
   * prompt can come with the handshake's answer, before the caller has had a turn) is handed to it first.
   */
  onOutput(listener: (chunk: Buffer) => void): void;
  /** Stop reading output (the server then pauses the shell); `resume` reads on. */
  pause(): void;
  resume(): void;
  /**
   * Resolves with the shell's exit status once it has exited and its output has been handed over;
   * rejects with CookError("unavailable") when the connection ends without one (the server stopped,
   * the network failed), saying why when the server did.
   */
  readonly exited: Promise<number>;
  /** Closes the connection; the server ends the shell. */
  close(): void;
}

export interface TerminalOptions {
  repo?: string;
  cols?: number;
  rows?: number;
}

/**
 * Opens the terminal of a branch (a brn_ id, a name, or `<repo>/<name>`) over a WebSocket
 * (RFC 6455) to `GET /api/branches/<ref>/terminal`, with the token as Bearer. Resolves once the
 * shell runs. A refusal is the server's HTTP answer, thrown as the CookError it carries (no live
 * environment: conflict; not allowed: forbidden or not_found …); a server that cannot be reached
 * throws `unreachable(cause)`.
 */
export function openTerminal(config: ClientConfig, ref: string, options: TerminalOptions, unreachable: (cause: unknown) => CookError): Promise<TerminalConnection> {
  const url = new URL(`${config.serverUrl}/api/branches/${ref.split("/").map(encodeURIComponent).join("/")}/terminal`);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  if (options.repo) url.searchParams.set("repo", options.repo);
  if (options.cols) url.searchParams.set("cols", String(options.cols));
  if (options.rows) url.searchParams.set("rows", String(options.rows));
  const headers: Record<string, string> = config.token ? { Authorization: `Bearer ${config.token}` } : {};
  const ws = new WebSocket(url, { headers, perMessageDeflate: false, maxPayload: 16 * 1024 * 1024 });

  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (err: CookError) => {
      if (settled) return;
      settled = true;
      ws.terminate();
      reject(err);
    };
    ws.once("unexpected-response", (_request, response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => fail(refusal(response.statusCode ?? 0, response.statusMessage ?? "", Buffer.concat(chunks).toString("utf8"))));
      response.on("error", (err) => fail(unreachable(err)));
    });
    ws.once("error", (err) => fail(unreachable(err)));
    ws.once("open", () => {
      settled = true;
      ws.removeAllListeners("error");
      resolve(connection(ws));
    });
  });
}

function connection(ws: WebSocket): TerminalConnection {
  const listeners: Array<(chunk: Buffer) => void> = [];
  const early: Buffer[] = [];
  let exitCode: number | undefined;
  ws.on("message", (data: Buffer, isBinary: boolean) => {
    if (isBinary) {
      if (listeners.length === 0) early.push(data);
      for (const listener of listeners) listener(data);
      return;
    }
    try {
      const message = JSON.parse(data.toString("utf8")) as { type?: string; code?: unknown };
      if (message.type === "exit" && Number.isInteger(message.code)) exitCode = message.code as number;
    } catch {
      // Not a control message this client knows: ignored, as the protocol says.
    }
  });
  const exited = new Promise<number>((resolve, reject) => {
    let failure: Error | undefined;
    ws.on("error", (err) => (failure = err));
    ws.on("close", (code, reason) => {
      if (exitCode !== undefined) return resolve(exitCode);
      const why = reason.toString("utf8") || failure?.message || `connection closed (${code})`;
      reject(new CookError("unavailable", `the terminal ended without the shell's exit status: ${why}`));
    });
  });
  return {
    write: (data) => ws.readyState === ws.OPEN && ws.send(data, { binary: true }),
    resize: (cols, rows) => ws.readyState === ws.OPEN && ws.send(JSON.stringify({ type: "resize", cols, rows })),
    onOutput: (listener) => {
      listeners.push(listener);
      for (const chunk of early.splice(0)) listener(chunk);
    },
    pause: () => ws.pause(),
    resume: () => ws.resume(),
    exited,
    close: () => ws.close(1000, "detached"),
  };
}

/** The server's refusal as the CookError in its `{"error": …}` body, or one made from the status. */
function refusal(status: number, statusText: string, body: string): CookError {
  try {
    const { error } = JSON.parse(body) as { error?: { code: ErrorCode; message: string } };
    if (error && typeof error.message === "string") return new CookError(error.code, error.message);
  } catch {
    // Not our JSON: a proxy or something else answered.
  }
  return new CookError(errorCodeOfStatus(status), `server answered ${status} ${statusText}`.trim());
}
