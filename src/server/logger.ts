import { pino, type Logger } from "pino";
import type { LogLevel } from "../config/server-config.js";

export type { Logger };

/** JSON lines on stdout; secrets in headers are never written. */
export function createLogger(level: LogLevel): Logger {
  return pino({
    level,
    base: { app: "cook" },
    redact: { paths: ["req.headers.authorization", "req.headers.cookie"], censor: "[redacted]" },
  });
}
