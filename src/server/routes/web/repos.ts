import Router from "@koa/router";
import type { RouterContext } from "@koa/router";
import type { Context } from "koa";
import {
  defaultLocation,
  hasHistory,
  listBranchesAndTags,
  openRawBlobAt,
  readBlobAt,
  readCommit,
  readLog,
  readReadme,
  readTreeAt,
  resolveLocation,
  type Location,
  type RawBlob,
} from "../../../forge/browse.js";
import { usageOf } from "../../../agents/read-sessions.js";
import { readCommitPatch } from "../../../forge/commit-diff.js";
import type { Ref } from "../../../git/refs.js";
import { getRepo, listRepos } from "../../../forge/repos.js";
import { permit } from "../../middleware/auth.js";
import { repoParam } from "../../route-resources.js";
import { optionalInteger } from "../../params.js";
import { countLines } from "../../render/code-rows.js";
import type { RenderedFile } from "../../render/diff-rows.js";
import { renderLimits } from "../../render/limits.js";
import type { Services } from "../../services.js";
import { decodeUrlPath, linkTo } from "./repo-links.js";
import { readAutopilotView } from "./repo-autopilot.js";
import { readRepoMerges } from "./repo-merges.js";

/**
 * The `<ref>/<path>` of a request as git-text: from the raw URL, because the router's decoding
 * cannot give back a name whose bytes are not UTF-8.
 */
function refPathOf(ctx: RouterContext): string {
  return decodeUrlPath(ctx.captures?.[1] ?? ""); // captures follow the route's parameters: :repo, then the rest
}

/** Where a branch or tag leads: its tree, or the file a tag of a blob names. */
function refLinks(repo: string, ref: Ref): { href: string | undefined; commitHref: string | undefined } {
  const at = { repo, ref: ref.short };
  const href = ref.target.type === "blob" ? linkTo("blob", at) : ref.target.type === "commit" || ref.target.type === "tree" ? linkTo("tree", at) : undefined;
  return { href, commitHref: ref.commit ? `/repos/${encodeURIComponent(repo)}/commit/${ref.commit}` : undefined };
}

/** Each changed file links to where it is: the commit's version, or the parent's for a deleted one; submodules have no page. */
function fileLinks(repo: string, commit: { sha: string; parents: string[] }, file: RenderedFile): { oldHref?: string; newHref?: string } {
  const parent = commit.parents[0];
  return {
    oldHref: parent && file.oldMode !== "160000" && file.status !== "added" ? linkTo("blob", { repo, ref: parent }, file.oldPath) : undefined,
    newHref: file.newMode !== "160000" && file.status !== "deleted" ? linkTo("blob", { repo, ref: commit.sha }, file.newPath) : undefined,
  };
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
    // A name that is not UTF-8 carries lone surrogates (git-text), which the header encoder refuses.
    ctx.attachment(fileName.replace(/[\ud800-\udfff]/gu, "\ufffd"));
  } else {
    ctx.type = "text/plain; charset=utf-8";
  }
  ctx.body = blob.stream;
  ctx.length = blob.size;
}

export function repoWebRoutes(services: Services): Router {
  const router = new Router({ prefix: "/repos" });
  const readRepo = permit("read", repoParam("repo"));

  router.get("/", permit("read", "factory"), async (ctx) => {
    await ctx.render("repos/index", { repos: await listRepos(services) });
  });

  router.get("/:repo", readRepo, async (ctx) => {
    // One ref listing serves the whole page (a git process costs tens of ms on a busy machine);
    // the rest are reads through the repo's cat-file.
    const [at, { branches, tags, defaultBranch, detachedHead }, usage, merges, autopilot] = await Promise.all([
      defaultLocation(services, ctx.params.repo!),
      listBranchesAndTags(services, ctx.params.repo!),
      usageOf(services, { repo: ctx.params.repo! }),
      readRepoMerges(services, ctx.params.repo!),
      readAutopilotView(services, ctx, ctx.params.repo!),
    ]);
    const repo = { name: ctx.params.repo!, defaultBranch, detachedHead };
    const readme = at ? await readReadme(services, at, renderLimits.displayBytes) : undefined;
    const withLinks = (ref: Ref) => ({ ...ref, ...refLinks(repo.name, ref) });
    await ctx.render("repos/home", {
      repo,
      tab: "code",
      cloneUrl: cloneUrl(ctx, repo.name),
      usage: usage.sessions > 0 ? usage : undefined,
      merges,
      autopilot,
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
      branches: [...branches.filter((b) => b.short === repo.defaultBranch), ...branches.filter((b) => b.short !== repo.defaultBranch)].slice(0, 10).map(withLinks),
      // Without the default branch, tags may be all there is to see.
      tags: at ? [] : tags.slice(0, 10).map(withLinks),
      branchCount: branches.length,
      tagCount: tags.length,
    });
  });

  router.get("/:repo/tree/{*refPath}", readRepo, async (ctx) => {
    const at = await resolveLocation(services, ctx.params.repo!, refPathOf(ctx));
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

  router.get("/:repo/blob/{*refPath}", readRepo, async (ctx) => {
    const at = await resolveLocation(services, ctx.params.repo!, refPathOf(ctx));
    const blob = await readBlobAt(services, at, renderLimits.displayBytes);
    const fileName = at.path.split("/").pop() || at.ref; // a tag of a blob has no path
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
      historyHref: hasHistory(at) ? linkTo("commits", at, at.path) : undefined,
      markdown: shown !== undefined && isMarkdown ? await services.render.markdown(shown, { blob: linkTo("blob", at), raw: linkTo("raw", at), dir: at.path.split("/").slice(0, -1).join("/") }) : undefined,
      plainHref: isMarkdown ? `${linkTo("blob", at, at.path)}?plain` : undefined,
      code: shown !== undefined && !isMarkdown ? await services.render.code(shown, fileName) : undefined,
    });
  });

  router.get("/:repo/raw/{*refPath}", readRepo, async (ctx) => {
    const at = await resolveLocation(services, ctx.params.repo!, refPathOf(ctx));
    sendRaw(ctx, at.path.split("/").pop() || at.ref, await openRawBlobAt(services, at));
  });

  router.get("/:repo/commits/{*refPath}", readRepo, async (ctx) => {
    const refPath = refPathOf(ctx);
    const at = refPath ? await resolveLocation(services, ctx.params.repo!, refPath) : await defaultLocation(services, ctx.params.repo!);
    if (!at) {
      // The Commits tab of a repo whose default branch does not exist yet: say so, not 404.
      const repo = await getRepo(services, ctx.params.repo!);
      await ctx.render("repos/commits", { repo, tab: "commits", at: undefined, commits: [], defaultBranchMissing: true });
      return;
    }
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

  router.get("/:repo/commit/:sha", readRepo, async (ctx) => {
    const commit = await readCommit(services, ctx.params.repo!, ctx.params.sha!);
    const diff = await services.render.diff(await readCommitPatch(services, ctx.params.repo!, commit));
    await ctx.render("repos/commit", {
      repo: { name: ctx.params.repo },
      tab: "commits",
      commit,
      diff: { ...diff, files: diff.files.map((file) => ({ ...file, ...fileLinks(ctx.params.repo!, commit, file) })) },
      treeHref: linkTo("tree", { repo: ctx.params.repo!, ref: commit.sha }),
    });
  });

  for (const view of ["branches", "tags"] as const) {
    router.get(`/:repo/${view}`, readRepo, async (ctx) => {
      const refs = await listBranchesAndTags(services, ctx.params.repo!);
      await ctx.render(`repos/${view}`, {
        repo: { name: ctx.params.repo },
        tab: view,
        defaultBranch: refs.defaultBranch,
        refs: refs[view].map((ref) => ({ ...ref, ...refLinks(ctx.params.repo!, ref) })),
      });
    });
  }

  return router;
}
