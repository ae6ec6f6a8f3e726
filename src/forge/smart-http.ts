import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import type { Context, Next } from "koa";
import type { Actor } from "../core/actor.js";
import { CookError } from "../core/errors.js";
import { isValidRepoName } from "../core/names.js";
import { spawnGitRpc } from "../git/rpc.js";
import { repoDir } from "./paths.js";
import { repoExists } from "./repos.js";

export type GitService = "git-upload-pack" | "git-receive-pack";

export interface SmartHttpDeps {
  dataDir: string;
  /** Where the hooks call back, and the secret they prove themselves with. */
  hooks: { url(): string; secret: string };
  /** Largest upload-pack request body (want/have negotiation) held in memory. */
  uploadPackBodyLimit?: number;
}

const gitPath = /^\/([^/]+)\/(info\/refs|git-upload-pack|git-receive-pack)$/;
// gitprotocol-http: Git-Protocol is colon-separated key=value pairs; anything else is not passed to git.
const gitProtocolHeader = /^[0-9a-zA-Z]+=[0-9a-zA-Z]+(:[0-9a-zA-Z]+=[0-9a-zA-Z]+)*$/;
const noCache = {
  "Cache-Control": "no-cache, max-age=0, must-revalidate",
  Pragma: "no-cache",
  Expires: "Fri, 01 Jan 1980 00:00:00 GMT",
};

interface GitRequest {
  repo: string;
  service: GitService;
  advertise: boolean;
}

function parseGitRequest(ctx: Context): GitRequest | undefined {
  const match = gitPath.exec(ctx.path);
  if (!match) return undefined;
  let repo: string;
  try {
    repo = decodeURIComponent(match[1]!);
  } catch {
    return undefined;
  }
  if (repo.endsWith(".git")) repo = repo.slice(0, -4);
  if (match[2] === "info/refs") {
    const service = ctx.query.service;
    if (service !== "git-upload-pack" && service !== "git-receive-pack") {
      throw new CookError("forbidden", "the dumb HTTP protocol is not supported: use a git client that speaks smart HTTP");
    }
    if (ctx.method !== "GET" && ctx.method !== "HEAD") throw new CookError("bad_request", "info/refs is fetched with GET");
    return { repo, service, advertise: true };
  }
  if (ctx.method !== "POST") throw new CookError("bad_request", `${match[2]} takes a POST`);
  return { repo, service: match[2] as GitService, advertise: false };
}

/**
 * Who may do what: reading needs any identity (an agent only of its own repo), pushing needs a
 * user, an admin or an agent of this repo; which refs a push may touch is the pre-receive hook's
 * business. An agent asking about another repo is told it does not exist.
 */
function authorize(actor: Actor | undefined, request: GitRequest): Actor {
  if (!actor) throw new CookError("unauthenticated", "authentication required: use a cook token as the password");
  if (actor.scope.startsWith("agent:")) {
    const repo = actor.scope.slice("agent:".length).split("/")[0];
    if (repo !== request.repo) throw new CookError("not_found", `no repo named '${request.repo}'`);
  }
  return actor;
}

function pktLine(text: string): string {
  return (text.length + 4).toString(16).padStart(4, "0") + text;
}

async function readLimited(body: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new CookError("too_large", `request body is over ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function requestBody(ctx: Context, service: GitService): Readable {
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

/** git smart HTTP (gitprotocol-http, gitprotocol-v2): a thin layer over `git upload-pack|receive-pack --stateless-rpc`. */
export function smartHttpMiddleware(deps: SmartHttpDeps) {
  const uploadPackBodyLimit = deps.uploadPackBodyLimit ?? 64 * 1024 * 1024;

  return async (ctx: Context, next: Next) => {
    const request = parseGitRequest(ctx);
    if (!request) return next();
    ctx.state.git = true;
    const actor = authorize(ctx.state.actor as Actor | undefined, request);
    if (request.service === "git-receive-pack" && actor.scope !== "admin" && actor.scope !== "user" && !actor.scope.startsWith("agent:")) {
      throw new CookError("forbidden", "this token may not push");
    }
    if (!isValidRepoName(request.repo) || !repoExists(deps.dataDir, request.repo)) {
      throw new CookError("not_found", `no repo named '${request.repo}'`);
    }
    const protocol = ctx.get("Git-Protocol");
    if (protocol && !gitProtocolHeader.test(protocol)) throw new CookError("bad_request", "malformed Git-Protocol header");

    const input = request.advertise ? undefined : requestBody(ctx, request.service);
    const buffered = input && request.service === "git-upload-pack" ? await readLimited(input, uploadPackBodyLimit) : undefined;

    const env = {
      ...(protocol ? { GIT_PROTOCOL: protocol } : {}),
      ...(request.service === "git-receive-pack"
        ? {
            COOK_HOOK_URL: deps.hooks.url(),
            COOK_HOOK_SECRET: deps.hooks.secret,
            COOK_REPO: request.repo,
            COOK_PUSHER: JSON.stringify(actor),
          }
        : {}),
    };
    const rpc = spawnGitRpc(request.service === "git-upload-pack" ? "upload-pack" : "receive-pack", repoDir(deps.dataDir, request.repo), { advertise: request.advertise, env });
    const { child } = rpc;
    const killGroup = rpc.kill;
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    child.stdin.on("error", () => {});

    const res = ctx.res;
    ctx.respond = false;
    ctx.status = 200;
    res.writeHead(200, {
      ...noCache,
      "Content-Type": `application/x-${request.service}-${request.advertise ? "advertisement" : "result"}`,
    });
    if (request.advertise && !/(^|:)version=2(:|$)/.test(protocol)) {
      res.write(`${pktLine(`# service=${request.service}\n`)}0000`);
    }

    const finished = new Promise<void>((resolve) => {
      res.on("close", () => {
        if (!res.writableFinished) killGroup();
        resolve();
      });
      child.on("error", (err) => {
        ctx.state.log?.error({ err: err.message }, "cannot start git");
        res.destroy();
      });
      child.on("close", (code, signal) => {
        if (code !== 0 && !res.destroyed) ctx.state.log?.warn({ code, signal, stderr: stderr.trim(), service: request.service, repo: request.repo }, "git exited with an error");
      });
    });

    child.stdout.pipe(res);
    if (buffered) child.stdin.end(buffered);
    else if (input) {
      input.on("error", () => killGroup());
      input.pipe(child.stdin);
    } else child.stdin.end();
    ctx.req.on("aborted", killGroup);

    await finished;
  };
}
