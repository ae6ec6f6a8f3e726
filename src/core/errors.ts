export type ErrorCode =
  | "invalid"
  | "bad_request"
  | "unauthenticated"
  | "forbidden"
  | "not_found"
  | "method_not_allowed"
  | "conflict"
  | "too_large"
  | "misdirected"
  | "unsupported_media_type"
  | "unavailable"
  | "internal";

/** The one error type that crosses layers; its code decides the HTTP status and the CLI exit code. */
export class CookError extends Error {
  override name = "CookError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export function isCookError(err: unknown): err is CookError {
  return err instanceof CookError;
}

const httpStatusByCode: Record<ErrorCode, number> = {
  invalid: 422,
  bad_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  too_large: 413,
  misdirected: 421,
  unsupported_media_type: 415,
  unavailable: 503,
  internal: 500,
};

export function httpStatusOf(code: ErrorCode): number {
  return httpStatusByCode[code];
}

/** Inverse of httpStatusOf, for the client: an unknown status is an internal error. */
export function errorCodeOfStatus(status: number): ErrorCode {
  for (const [code, s] of Object.entries(httpStatusByCode)) {
    if (s === status) return code as ErrorCode;
  }
  return status >= 400 && status < 500 ? "invalid" : "internal";
}
