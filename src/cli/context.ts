import type { Command } from "commander";
import { loadClientConfig } from "../config/client-config.js";
import { CookClient } from "../client/http-client.js";

/** The API client for a command, honouring the global --server flag. */
export function clientFor(command: Command): CookClient {
  const { server } = command.optsWithGlobals<{ server?: string }>();
  return new CookClient(loadClientConfig({ server }));
}
