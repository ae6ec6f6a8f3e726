import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { createInitialAdminToken } from "../auth/tokens.js";
import type { AddressInfo } from "node:net";
import { isLoopbackHost, type ServerConfig } from "../config/server-config.js";
import { CookError } from "../core/errors.js";
import { createApp } from "./app.js";
import { lockDataDir } from "./data-dir-lock.js";
import { createLiveStreams } from "./live/sse.js";
import { createTerminals } from "./live/terminal.js";
import { createLogger, type Logger } from "./logger.js";
import { openServices } from "./services.js";

export interface RunningServer {
  url: string;
  /** Stops accepting, lets in-flight requests finish (at most `graceMs`), then closes bus and store. */
  stop(graceMs?: number): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EADDRINUSE") reject(new CookError("unavailable", `${host}:${port} is already in use: is another cook serve running? Choose another --port`));
      else if (err.code === "EADDRNOTAVAIL" || err.code === "ENOTFOUND") reject(new CookError("invalid", `cannot listen on ${host}: no such address on this machine`));
      else if (err.code === "EACCES") reject(new CookError("invalid", `not allowed to listen on ${host}:${port}; ports below 1024 need privileges`));
      else reject(err);
    });
    server.listen(port, host, () => resolve(server.address() as AddressInfo));
  });
}

export async function serve(config: ServerConfig, log: Logger = createLogger(config.log.level)): Promise<RunningServer> {
  // Localhost is trusted without tokens; anywhere else that trust would extend to the network.
  if (!isLoopbackHost(config.server.host) && !config.auth.required) {
    throw new CookError(
      "invalid",
      `refusing to listen on ${config.server.host} without token auth: set [auth] required = true in the config file, or listen on 127.0.0.1`,
    );
  }
  // Everything the server and its children (git, PGlite) create is for this user alone: the data
  // dir holds the database, the hook secret and the repos.
  process.umask(0o077);
  // A taken port is said at once, not after the store and bus have been opened for nothing.
  if (config.server.port !== 0) await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    listen(probe, config.server.port, config.server.host).then(() => probe.close(() => resolve()), reject);
  });
  const unlock = lockDataDir(config.server.dataDir);
  let services;
  try {
    services = await openServices(config, log);
  } catch (err) {
    unlock();
    throw err;
  }
  if (config.auth.required) {
    const initial = await createInitialAdminToken(services);
    if (initial) {
      const file = join(config.server.dataDir, "initial-admin-token");
      writeFileSync(file, `${initial.secret}\n`, { mode: 0o600 });
      log.warn({ file }, "auth is required and there was no admin token: created one; its secret is in this file (readable only by this user)");
    }
  }
  const live = createLiveStreams(services);
  const terminals = createTerminals(services);
  const app = createApp(services, live, terminals).callback();
  const server = createServer(app);
  // WebSocket handshakes (the terminal) go through the same app: same host, origin and auth decisions.
  server.on("upgrade", terminals.upgradeListener(app));
  server.keepAliveTimeout = 5000;

  let address: AddressInfo;
  try {
    address = await listen(server, config.server.port, config.server.host);
  } catch (err) {
    await services.close();
    unlock();
    throw err;
  }
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  // Hooks run on this machine: they reach the server on loopback whatever address it listens on.
  const loopback = address.family === "IPv6" ? "[::1]" : "127.0.0.1";
  services.hooks.setUrl(`http://${address.address === "::1" ? "[::1]" : loopback}:${address.port}`);
  await services.startBackgroundWork();
  log.info({ url, dataDir: config.server.dataDir, store: services.db.kind, bus: services.bus.kind }, "listening");

  let stopping: Promise<void> | undefined;
  return {
    url,
    stop(graceMs = 10_000) {
      stopping ??= (async () => {
        log.info("shutting down");
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        live.closeAll();
        terminals.closeAll();
        server.closeIdleConnections();
        const timer = setTimeout(() => {
          log.warn("in-flight requests did not finish in time; closing their connections");
          server.closeAllConnections();
        }, graceMs - 1000);
        await closed;
        clearTimeout(timer);
        await services.close();
        unlock();
        log.info("stopped");
      })();
      return stopping;
    },
  };
}
