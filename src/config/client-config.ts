import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { CookError } from "../core/errors.js";
import { checkAgainstRules, sectionOf } from "./schema.js";
import { readTomlFile } from "./toml-file.js";

export interface ClientConfig {
  readonly serverUrl: string;
  readonly token: string | undefined;
}

export const defaultServerUrl = "http://127.0.0.1:7420";

export function clientConfigFile(env: NodeJS.ProcessEnv): string {
  const configHome = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config");
  return join(configHome, "cook", "config.toml");
}

function checkUrl(value: string): string | undefined {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? undefined : "an http:// or https:// URL";
  } catch {
    return "an http:// or https:// URL";
  }
}

/** The server is found through --server, then COOK_SERVER, then the client config file, then the default. */
export function loadClientConfig(flags: { server?: string } = {}, env: NodeJS.ProcessEnv = process.env): ClientConfig {
  const file = clientConfigFile(env);
  const doc = existsSync(file) ? readTomlFile(file) : {};
  const problems = checkAgainstRules(file, doc, {
    server: { url: { type: "string", check: checkUrl }, token: { type: "string" } },
  });
  for (const [name, value] of [["--server", flags.server], ["COOK_SERVER", env.COOK_SERVER]] as const) {
    const expected = value ? checkUrl(value) : undefined;
    if (expected) problems.push(`${name}: expected ${expected}, got ${JSON.stringify(value)}`);
  }
  if (problems.length > 0) throw new CookError("invalid", problems.join("; "));

  const server = sectionOf(doc, "server");
  const url = flags.server || env.COOK_SERVER || (server.url as string | undefined) || defaultServerUrl;
  return Object.freeze({
    serverUrl: url.replace(/\/+$/, ""),
    token: env.COOK_TOKEN || (server.token as string | undefined) || undefined,
  });
}
