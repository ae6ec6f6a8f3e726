import type { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import type { Context } from "koa";
import { CookError } from "../core/errors.js";

/**
 * The request body of an upload-pack or receive-pack POST, decompressed when the client said
 * `Content-Encoding: gzip` (git does for large fetch negotiations). Throws unsupported_media_type
 * for a wrong Content-Type or an unknown encoding. The stream fails with whatever broke it; pass
 * that to bodyError.
 */
export function requestBody(ctx: Context, service: "git-upload-pack" | "git-receive-pack"): Readable {
  const expected = `application/x-${service}-request`;
  if (ctx.get("Content-Type") !== expected) {
    throw new CookError("unsupported_media_type", `${service} takes Content-Type ${expected}, not '${ctx.get("Content-Type") || "none"}'`);
  }
  const encoding = ctx.get("Content-Encoding").toLowerCase();
  if (encoding === "gzip" || encoding === "x-gzip") {
    const gunzip = createGunzip();
    ctx.req.on("error", (err) => gunzip.destroy(err));
    return ctx.req.pipe(gunzip);
  }
  if (encoding && encoding !== "identity") throw new CookError("unsupported_media_type", `Content-Encoding '${encoding}' is not supported`);
  return ctx.req;
}

/** Why a request body could not be read, as the client's mistake (400) rather than the server's. */
export function bodyError(err: unknown): CookError {
  if (err instanceof CookError) return err;
  const { code, message } = err as NodeJS.ErrnoException;
  // zlib names its failures Z_DATA_ERROR (not gzip, corrupt) and Z_BUF_ERROR (cut short).
  if (typeof code === "string" && code.startsWith("Z_")) return new CookError("bad_request", `request body is not valid gzip (Content-Encoding: gzip): ${message}`);
  return new CookError("bad_request", `request body could not be read: ${message}`);
}

/** Reads a whole body into memory; too_large past `limit` bytes (after decompression), bad_request when it cannot be read. */
export async function readLimited(body: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      size += (chunk as Buffer).length;
      if (size > limit) throw new CookError("too_large", `request body is over ${limit} bytes`);
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    throw bodyError(err);
  }
  return Buffer.concat(chunks);
}
