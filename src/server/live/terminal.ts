import { ServerResponse, type IncomingMessage, type RequestListener } from "node:http";
import type { Duplex } from "node:stream";
import type { Context } from "koa";
import { WebSocketServer, type WebSocket } from "ws";
import type { Branch } from "../../core/branch.js";
import { CookError } from "../../core/errors.js";
import type { EnvironmentDeps } from "../../environments/deps.js";
import { maxShellCells, openShell, type Shell, type ShellSize } from "../../environments/open-shell.js";
import { isWebSocketHandshake } from "../middleware/same-origin.js";

/**
 * The terminal of a branch's environment: `GET /api/branches/<ref>/terminal?cols=&rows=` as a
 * WebSocket (RFC 6455), with an interactive shell on a pty (environments/open-shell.ts) behind it.
 * `<ref>` is a brn_ id, a name or `<repo>/<name>` as elsewhere in the API (`?repo=` settles a name
 * two repos share); cols and rows default to 80×24.
 *
 * The handshake goes through the whole HTTP middleware chain like any request (allowed Host, same
 * origin, token or trusted localhost, `permit("push")` on the branch) and then the environment
 * check, so a refusal is an ordinary HTTP response (421, 403, 401, 404, 409, 503, with the API's
 * `{"error": {code, message}}` body) sent before any upgrade, and the connection is closed.
 *
 * Protocol, once upgraded:
 * - binary frames, both ways: terminal bytes (keystrokes to the shell; its output to the client);
 * - text frames, JSON control messages: client → server `{"type":"resize","cols":N,"rows":N}`;
 *   server → client `{"type":"exit","code":N}` when the shell has ended (code as a shell reports
 *   it: 128 + signal when killed), after all of its output, followed by a close (1000).
 *   Text frames the server does not understand are ignored.
 * - The server pings every 30 s and drops a client that has not answered the previous ping.
 * - Closing the socket ends the shell and everything started in its session.
 * - The server closes with 1001 when it stops; after a teardown the client gets a line saying so
 *   and then the exit message.
 */
export interface Terminals {
  /**
   * The handler of the terminal route, after its guard: opens the shell, then completes the
   * handshake. Throws (before any upgrade) as openShell does, invalid for a bad size, unavailable
   * when `maxTerminals` are open, and bad_request for a request that did not come as an upgrade.
   */
  attach(ctx: Context, branch: Branch): Promise<void>;
  /**
   * An `upgrade` listener for the http server: hands a WebSocket handshake to `app` (the Koa
   * callback) with a response that writes to the raw socket, so the same middleware decides.
   */
  upgradeListener(app: RequestListener): (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** Ends every terminal (1001) and refuses new ones: on shutdown. */
  closeAll(): void;
  count(): number;
}

export type TerminalDeps = EnvironmentDeps;

/** At most this many terminals at once, server-wide: each is a shell (and a sandbox) on this machine. */
export const maxTerminals = 32;
/** Output waiting for a slow client beyond this pauses the shell (it blocks writing), bounding memory per terminal. */
const outputHighWater = 256 * 1024;
const outputLowWater = 64 * 1024;
/** Input the pty has not taken beyond this stops reading from the client until it has. */
const inputHighWater = 1024 * 1024;
/** A paste arrives in one frame; anything larger is refused with close code 1009. */
const maxFrameBytes = 1024 * 1024;
const pingIntervalMs = 30_000;

export function createTerminals(deps: TerminalDeps): Terminals {
  const wss = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false, maxPayload: maxFrameBytes });
  const handshakes = new WeakMap<IncomingMessage, { socket: Duplex; head: Buffer }>();
  const open = new Set<{ ws: WebSocket; shell: Shell }>();
  let closed = false;
  let starting = 0; // shells being started, counted against the limit with the open ones

  const ignoreError = () => {};

  function connect(ws: WebSocket, shell: Shell): void {
    const session = { ws, shell };
    open.add(session);
    let outputPaused = false;
    let inputPaused = false;
    let answered = true;

    const resumeOutput = () => {
      if (outputPaused && ws.bufferedAmount < outputLowWater) {
        outputPaused = false;
        shell.resume();
      }
    };
    shell.onOutput((chunk) => {
      if (ws.readyState !== ws.OPEN) return;
      ws.send(chunk, { binary: true }, resumeOutput);
      if (!outputPaused && ws.bufferedAmount > outputHighWater) {
        outputPaused = true;
        shell.pause();
      }
    });
    shell.onExit((code) => {
      if (ws.readyState !== ws.OPEN) return;
      ws.send(JSON.stringify({ type: "exit", code }));
      ws.close(1000, "the shell exited");
    });

    const waitForInputRoom = () => {
      if (ws.readyState !== ws.OPEN) return;
      if (shell.queuedInput() > inputHighWater / 4) return void setTimeout(waitForInputRoom, 20);
      inputPaused = false;
      ws.resume();
    };
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      answered = true;
      if (isBinary) {
        shell.write(data);
        if (!inputPaused && shell.queuedInput() > inputHighWater) {
          inputPaused = true;
          ws.pause();
          waitForInputRoom();
        }
        return;
      }
      const size = resizeOf(data.toString("utf8"));
      if (size) shell.resize(size);
    });

    // A client whose machine vanished never closes its socket: the pings find it.
    const heartbeat = setInterval(() => {
      if (!answered) return ws.terminate();
      answered = false;
      ws.ping();
    }, pingIntervalMs);
    ws.on("pong", () => (answered = true));
    ws.on("error", ignoreError);
    ws.on("close", () => {
      clearInterval(heartbeat);
      open.delete(session);
      shell.close();
    });
  }

  return {
    count: () => open.size,

    closeAll() {
      closed = true;
      for (const { ws, shell } of [...open]) {
        ws.close(1001, "the server is stopping");
        shell.close();
        setTimeout(() => ws.terminate(), 1000).unref();
      }
    },

    async attach(ctx, branch) {
      const handshake = handshakes.get(ctx.req);
      if (!handshake) throw new CookError("bad_request", "the terminal is a WebSocket: open it with cook branch attach or the branch page");
      if (closed) throw new CookError("unavailable", "the server is stopping");
      if (open.size + starting >= maxTerminals) throw new CookError("unavailable", `${maxTerminals} terminals are open on this server, the most it allows; close one first`);
      starting++;
      let shell: Shell;
      try {
        shell = await openShell(deps, branch, sizeOf(ctx.query));
      } finally {
        starting--;
      }

      // From here on the socket is the WebSocket's: Koa must not answer on it.
      ctx.respond = false;
      ctx.status = 101;
      const { socket, head } = handshake;
      ctx.res.detachSocket(socket as never);
      socket.removeListener("error", ignoreError);
      let connected = false;
      // ws drops a malformed handshake (or a client gone meanwhile) without calling back: the shell goes too.
      socket.once("close", () => connected || shell.close());
      if (socket.destroyed) return shell.close();
      wss.handleUpgrade(ctx.req, socket, head, (ws) => {
        connected = true;
        connect(ws, shell);
      });
    },

    upgradeListener(app) {
      return (req, socket, head) => {
        socket.on("error", ignoreError);
        // Node hands every request carrying Upgrade to this listener, its parser stopped at the
        // headers: one with a body cannot be served here. Without a body, it is served as usual.
        if (req.headers["content-length"] !== undefined || req.headers["transfer-encoding"] !== undefined) {
          const said = "a request with a body cannot ask for an Upgrade here; send it without\n";
          socket.end(`HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(said)}\r\n\r\n${said}`);
          return;
        }
        if (isWebSocketHandshake(req)) handshakes.set(req, { socket, head });
        const res = new ServerResponse(req);
        res.shouldKeepAlive = false;
        res.assignSocket(socket as never);
        // A refusal (or any other answer) ends the connection: it has left Node's HTTP parser.
        res.on("finish", () => socket.end());
        app(req, res);
      };
    },
  };
}

/** `?cols=&rows=`: 80×24 when absent; throws invalid when not whole numbers in range. */
function sizeOf(query: Record<string, unknown>): ShellSize {
  const read = (name: string, fallback: number) => {
    const value = query[name];
    if (value === undefined || value === "") return fallback;
    if (typeof value !== "string" || !/^\d{1,4}$/.test(value)) throw new CookError("invalid", `${name} must be a whole number of character cells`);
    return Number(value);
  };
  return { cols: read("cols", 80), rows: read("rows", 24) };
}

/** A resize control message, or undefined for anything else (ignored). */
function resizeOf(text: string): ShellSize | undefined {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return undefined;
  }
  const { type, cols, rows } = (message ?? {}) as { type?: unknown; cols?: unknown; rows?: unknown };
  if (type !== "resize" || !Number.isInteger(cols) || !Number.isInteger(rows)) return undefined;
  const size = { cols: cols as number, rows: rows as number };
  const fits = (n: number) => n >= 1 && n <= maxShellCells;
  return fits(size.cols) && fits(size.rows) ? size : undefined;
}
