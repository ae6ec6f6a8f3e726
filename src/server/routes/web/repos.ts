import Router from "@koa/router";
import type { Context } from "koa";
import { CookError } from "../../../core/errors.js";
import {
  defaultLocation,
  listBranchesAndTags,
  openRawBlobAt,
  readBlobAt,
  readCommit,
  readCommitDiff,
  readLog,
  readReadme,
  readTreeAt,
  resolveLocation,
  type Location,
  type RawBlob,
} from "../../../forge/browse.js";
import { getRepo, listRepos } from "../../../forge/repos.js";
import { requireActor } from "../../middleware/auth.js";
import { optionalInteger } from "../../params.js";
import { countLines } from "../../render/code-rows.js";
import { renderLimits } from "../../render/limits.js";
import type { Services } from "../../services.js";

const encodePath = (path: string) => path.split("/").map(encodeURIComponent).join("/");

/** Links of one location: /repos/<repo>/<view>/<ref>/<path>. */
function linkTo(view: "tree" | "blob" | "raw" | "commits", at: Pick<Location, "repo" | "ref">, path = ""): string {
  return `/repos/${encodeURIComponent(at.repo)}/${view}/${encodePath(at.ref)}${path ? `/${encodePath(path)}` : ""}`;
}

function breadcrumbs(at: Location): Array<{ name: string; href: string }> {
  const crumbs = [{ name: at.repo, href: linkTo("tree", at) }];
  const parts = at.path ? at.path.split("/") : [];
  parts.forEach((name, i) => crumbs.push({ name, href: linkTo("tree", at, parts.slice(0, i + 1).join("/")) }));
  return crumbs;
}

/** The URL the browser used to reach us is the one its user can clone from. */
function cloneUrl(ctx: Context, repo: string): string {
  return `${ctx.protocol}://${ctx.host}/${repo}.git`;
}

/** Viewing code never runs it: raw files are served as text or as attachments, never as HTML. */
function sendRaw(ctx: Context, fileName: string, blob: RawBlob): void {
  ctx.set("Content-Security-Policy", "default-src 'none'; sandbox");
  ctx.set("X-Content-Type-Options", "nosniff");
  if (blob.binary) {
    ctx.type = "application/octet-stream";
    ctx.attachment(fileName);
  } else {
    ctx.type = "text/plain; charset=utf-8";
  }
  ctx.body = blob.stream;
  ctx.length = blob.size;
}

export function repoWebRoutes(services: Services): Router {
  const router = new Router({ prefix: "/repos" });
  router.use(async (ctx, next) => {
    requireActor(ctx);
    await next();
  });

  router.get("/", async (ctx) => {
    await ctx.render("repos/index", { repos: await listRepos(services) });
  });

  router.get("/:repo", async (ctx) => {
    const repo = await getRepo(services, ctx.params.repo!);
    const at = await defaultLocation(services, repo.name);
    const readme = at ? await readReadme(services, at, renderLimits.displayBytes) : undefined;
    const { branches, tags } = await listBranchesAndTags(services, repo.name);
    await ctx.render("repos/home", {
      repo,
      tab: "code",
      cloneUrl: cloneUrl(ctx, repo.name),
      at,
      treeHref: at ? linkTo("tree", at) : undefined,
      readme: readme && {
        name: readme.name,
        size: readme.size,
        tooLarge: readme.text === undefined,
        rawHref: linkTo("raw", at!, readme.name),
        html: readme.text !== undefined && /\.(md|markdown)$/i.test(readme.name) ? await services.render.markdown(readme.text, { blob: linkTo("blob", at!), raw: linkTo("raw", at!), dir: "" }) : undefined,
        text: readme.text,
      },
      // The default branch first, then the most recently committed.
      branches: [...branches.filter((b) => b.short === repo.defaultBranch), ...branches.filter((b) => b.short !== repo.defaultBranch)].slice(0, 10),
      branchCount: branches.length,
      tagCount: tags.length,
    });
  });

  router.get("/:repo/tree/{*refPath}", async (ctx) => {
    const at = await resolveLocation(services, ctx.params.repo!, ctx.params.refPath ?? "");
    const { entries } = await readTreeAt(services, at);
    await ctx.render("repos/tree", {
      repo: { name: at.repo },
      tab: "code",
      at,
      crumbs: breadcrumbs(at),
      cloneUrl: cloneUrl(ctx, at.repo),
      parentHref: at.path ? linkTo("tree", at, at.path.split("/").slice(0, -1).join("/")) : undefined,
      entries: entries.map((entry) => {
        const path = at.path ? `${at.path}/${entry.name}` : entry.name;
        return { ...entry, href: entry.type === "tree" ? linkTo("tree", at, path) : entry.type === "blob" ? linkTo("blob", at, path) : undefined };
      }),
    });
  });

  router.get("/:repo/blob/{*refPath}", async (ctx) => {
    const at = await resolveLocation(services, ctx.params.repo!, ctx.params.refPath ?? "");
    const blob = await readBlobAt(services, at, renderLimits.displayBytes);
    const fileName = at.path.split("/").pop()!;
    const isMarkdown = /\.(md|markdown)$/i.test(fileName) && ctx.query.plain === undefined;
    const text = blob.content && !blob.binary ? blob.content.toString("utf8") : undefined;
    const lineCount = text === undefined ? undefined : countLines(text);
    const tooLarge = blob.content === undefined || (lineCount ?? 0) > renderLimits.displayLines;
    const shown = tooLarge ? undefined : text;
    await ctx.render("repos/blob", {
      repo: { name: at.repo },
      tab: "code",
      at,
      crumbs: breadcrumbs(at),
      fileName,
      size: blob.size,
      lineCount,
      binary: blob.binary,
      tooLarge,
      rawHref: linkTo("raw", at, at.path),
      historyHref: linkTo("commits", at, at.path),
      markdown: shown !== undefined && isMarkdown ? await services.render.markdown(shown, { blob: linkTo("blob", at), raw: linkTo("raw", at), dir: at.path.split("/").slice(0, -1).join("/") }) : undefined,
      plainHref: isMarkdown ? `${linkTo("blob", at, at.path)}?plain` : undefined,
      code: shown !== undefined && !isMarkdown ? await services.render.code(shown, fileName) : undefined,
    });
  });

  router.get("/:repo/raw/{*refPath}", async (ctx) => {
    const at = await resolveLocation(services, ctx.params.repo!, ctx.params.refPath ?? "");
    sendRaw(ctx, at.path.split("/").pop()!, await openRawBlobAt(services, at));
  });

  router.get("/:repo/commits/{*refPath}", async (ctx) => {
    const at = ctx.params.refPath ? await resolveLocation(services, ctx.params.repo!, ctx.params.refPath) : await defaultLocation(services, ctx.params.repo!);
    if (!at) throw new CookError("not_found", `${ctx.params.repo} has no commits yet`);
    const page = optionalInteger("page", ctx.query.page) ?? 0;
    const log = await readLog(services, at, page);
    const here = linkTo("commits", at, at.path);
    await ctx.render("repos/commits", {
      repo: { name: at.repo },
      tab: "commits",
      at,
      commits: log.commits,
      newerHref: page > 0 ? `${here}?page=${page - 1}` : undefined,
      olderHref: log.hasMore ? `${here}?page=${page + 1}` : undefined,
    });
  });

  router.get("/:repo/commit/:sha", async (ctx) => {
    const commit = await readCommit(services, ctx.params.repo!, ctx.params.sha!);
    const diff = await readCommitDiff(services, ctx.params.repo!, commit);
    await ctx.render("repos/commit", {
      repo: { name: ctx.params.repo },
      tab: "commits",
      commit,
      diff,
      treeHref: linkTo("tree", { repo: ctx.params.repo!, ref: commit.sha }),
    });
  });

  for (const view of ["branches", "tags"] as const) {
    router.get(`/:repo/${view}`, async (ctx) => {
      const refs = await listBranchesAndTags(services, (await getRepo(services, ctx.params.repo!)).name);
      await ctx.render(`repos/${view}`, {
        repo: { name: ctx.params.repo },
        tab: view,
        defaultBranch: refs.defaultBranch,
        refs: refs[view].map((ref) => ({ ...ref, href: linkTo("tree", { repo: ctx.params.repo!, ref: ref.short }) })),
      });
    });
  }

  return router;
}
