import { createHmac } from "node:crypto";

/**
 * An environment's token secret, derived from the server's secret and the environment id
 * (HMAC-SHA256, base64url) so that it is never stored anywhere: the tokens table keeps its hash,
 * and the server computes it again whenever it starts a process in the environment.
 */
export function environmentTokenSecret(serverSecret: string, envId: string): string {
  return `cook_env_${createHmac("sha256", serverSecret).update(`environment-token:${envId}`).digest("base64url")}`;
}
