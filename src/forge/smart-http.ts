import type { Context, Next } from "koa";
import type { Actor } from "../core/actor.js";
import { authorize } from "../core/authorization.js";
import { CookError } from "../core/errors.js";
import { isValidRepoName } from "../core/names.js";
import { spawnGitRpc } from "../git/rpc.js";
import type { GitSpawner } from "../git/spawner.js";
import { parseGitPath } from "./git-path.js";
import { bodyError, readLimited, requestBody } from "./git-request-body.js";
import { repoDir } from "./paths.js";
import { repoExists } from "./repos.js";

export type GitService = "git-upload-pack" | "git-receive-pack";

export interface SmartHttpDeps {
  dataDir: string;
  /** Where the hooks call back, and the secret they prove themselves with. */
  hooks: { url(): string; secret: string };
  /** Largest upload-pack request body (want/have negotiation) held in memory. */
  uploadPackBodyLimit?: number;
  /** Starts git from a small process (git/spawner.ts); without it the server spawns git itself. */
  spawner?: GitSpawner;
}

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
  const path = parseGitPath(ctx.path);
  if (!path) return undefined;
  const { repo, endpoint } = path;
  if (endpoint === "info/refs") {
    const service = ctx.query.service;
    if (service !== "git-upload-pack" && service !== "git-receive-pack") {
      throw new CookError("forbidden", "the dumb HTTP protocol is not supported: use a git client that speaks smart HTTP");
    }
    if (ctx.method !== "GET" && ctx.method !== "HEAD") throw new CookError("bad_request", "info/refs is fetched with GET");
    return { repo, service, advertise: true };
  }
  if (ctx.method !== "POST") throw new CookError("bad_request", `${endpoint} takes a POST`);
  return { repo, service: endpoint, advertise: false };
}

function pktLine(text: string): string {
  return (text.length + 4).toString(16).padStart(4, "0") + text;
}

/** git smart HTTP (gitprotocol-http, gitprotocol-v2): a thin layer over `git upload-pack|receive-pack --stateless-rpc`. */
export function smartHttpMiddleware(deps: SmartHttpDeps) {
  const uploadPackBodyLimit = deps.uploadPackBodyLimit ?? 64 * 1024 * 1024;

  return async (ctx: Context, next: Next) => {
    const request = parseGitRequest(ctx);
    if (!request) return next();
    ctx.state.git = true;
    // The factory's one decision (core/authorization.ts): which refs a push may touch is then the
    // pre-receive hook's business.
    const actor = authorize(ctx.state.actor as Actor | undefined, request.service === "git-receive-pack" ? "push" : "read", { repo: request.repo });
    if (!isValidRepoName(request.repo) || !repoExists(deps.dataDir, request.repo)) {
      throw new CookError("not_found", `no repo named '${request.repo}'`);
    }
    const protocol = ctx.get("Git-Protocol");
    if (protocol && !gitProtocolHeader.test(protocol)) throw new CookError("bad_request", "malformed Git-Protocol header");

    const input = request.advertise ? undefined : requestBody(ctx, request.service);
    const buffered = input && request.service === "git-upload-pack" ? await readLimited(input, uploadPackBodyLimit) : undefined;
    // A streamed body may fail (gzip that is not gzip) while git is being started: kept until the
    // handler below can answer it.
    let earlyInputError: Error | undefined;
    const keepEarlyError = (err: Error) => void (earlyInputError ??= err);
    if (input && !buffered) input.on("error", keepEarlyError);

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
    const rpc = await spawnGitRpc(request.service === "git-upload-pack" ? "upload-pack" : "receive-pack", repoDir(deps.dataDir, request.repo), { advertise: request.advertise, env, spawner: deps.spawner });
    const { child } = rpc;
    const killGroup = rpc.kill;
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    child.stdin.on("error", () => {});

    const res = ctx.res;
    ctx.respond = false;
    ctx.status = 200;
    const headers = { ...noCache, "Content-Type": `application/x-${request.service}-${request.advertise ? "advertisement" : "result"}` };
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    // While a streamed body is still coming, the headers wait, so a body that breaks (gzip that is
    // not gzip) is answered 400 rather than as a cut-off 200. Once it is in they go at once: a
    // client with an idle timeout (Node's default agent: 5 s) must not wait on the hooks for them.
    if (input && !buffered) input.once("end", () => res.flushHeaders());
    else res.flushHeaders();
    if (request.advertise && !/(^|:)version=2(:|$)/.test(protocol)) {
      res.write(`${pktLine(`# service=${request.service}\n`)}0000`);
    }

    const finished = new Promise<void>((resolve, reject) => {
      const inputFailed = (err: Error) => {
        killGroup();
        if (res.headersSent) return void res.destroy();
        child.stdout.unpipe(res);
        ctx.respond = true;
        reject(bodyError(err));
      };
      input?.off("error", keepEarlyError);
      input?.on("error", inputFailed);
      if (earlyInputError) inputFailed(earlyInputError);
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
    else if (input) input.pipe(child.stdin);
    else child.stdin.end();
    ctx.req.on("aborted", killGroup);

    await finished;
  };
}
