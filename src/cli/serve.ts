import type { Command } from "commander";
import { parseIntegerOption } from "./parse.js";

export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("run the factory: git forge, API, web UI and event bus")
    .option("--host <host>", "address to listen on (default 127.0.0.1, or [server] host)")
    .option("--port <port>", "port to listen on; 0 picks a free one (default 7420)", parseIntegerOption("--port"))
    .option("--config <file>", "server config file (default $COOK_CONFIG, else /etc/cook/config.toml if present)")
    .action(async (options: { host?: string; port?: number; config?: string }) => {
      const { loadServerConfig } = await import("../config/server-config.js");
      const { serve } = await import("../server/serve.js");
      const config = loadServerConfig(options);
      const server = await serve(config);
      process.stderr.write(`cook serving on ${server.url} (data: ${config.server.dataDir})\n`);
      await new Promise<void>((resolve) => {
        let signals = 0;
        const onSignal = () => {
          // A second Ctrl-C means "now": skip the grace period.
          if (++signals > 1) process.exit(130);
          void server.stop().then(resolve);
        };
        process.on("SIGINT", onSignal);
        process.on("SIGTERM", onSignal);
      });
    });
}
