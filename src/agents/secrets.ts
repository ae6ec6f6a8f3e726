import type { AgentConfig } from "../config/agent-config.js";
import type { AgentAdapter } from "./adapters/index.js";

const secretName = /KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL/i;
export const maskedValue = "••••••";

/**
 * The values to mask in everything an agent prints before it is kept or shown: variables named in
 * `secrets`, API-key-like variables of its config, the adapter's key variables as the server has
 * them, and the environment's own token. Values under 8 characters are not masked (they would
 * blank out ordinary words).
 */
export function secretValues(config: AgentConfig, adapter: AgentAdapter, extra: readonly string[]): string[] {
  const values = new Set<string>(extra);
  for (const [name, value] of Object.entries(config.env)) if (secretName.test(name) || config.secrets.includes(name)) values.add(value);
  for (const name of [...config.secrets, ...adapter.keyVariables]) {
    const value = config.env[name] ?? process.env[name];
    if (value) values.add(value);
  }
  return [...values].filter((value) => value.length >= 8).sort((a, b) => b.length - a.length);
}

/** `text` with every secret value replaced by a mask. */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (out.includes(secret)) out = out.replaceAll(secret, maskedValue);
  return out;
}
