import { join } from "node:path";
import type { Context, Next } from "koa";
import nunjucks from "nunjucks";
import { packageRoot } from "../config/package-root.js";
import { formatBytes, formatCount, formatDuration, formatUsd } from "../core/format.js";
import type { Task } from "../core/task.js";
import { describeStatus } from "../core/task-status.js";

export const viewsDir = join(packageRoot(), "views");

declare module "koa" {
  interface DefaultContext {
    render(template: string, view?: Record<string, unknown>): Promise<void>;
  }
}

const navigation = [
  { href: "/repos", label: "Repos" },
  { href: "/tasks", label: "Tasks" },
  { href: "/branches", label: "Branches" },
  { href: "/factory", label: "Factory" },
  { href: "/events", label: "Events" },
];

export function createViewEnvironment(): nunjucks.Environment {
  // Autoescape is the XSS boundary for everything a user or an agent wrote: only `| safe` opts out.
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(viewsDir, { noCache: false }), { autoescape: true });
  env.addFilter("json", (value: unknown) => JSON.stringify(value, null, 2));
  env.addFilter("shortTime", (iso: string) => iso.replace("T", " ").slice(0, 19));
  env.addFilter("bytes", formatBytes);
  env.addFilter("count", formatCount);
  env.addFilter("usd", formatUsd);
  env.addFilter("duration", formatDuration);
  env.addFilter("urlpath", (path: string) => path.split("/").map(encodeURIComponent).join("/"));
  env.addFilter("firstLine", (text: string) => text.split("\n", 1)[0]);
  env.addFilter("taskStatus", (task: Pick<Task, "status" | "resolution">) => describeStatus(task).replace("_", " "));
  env.addFilter("afterFirstLine", (text: string) => text.split("\n").slice(1).join("\n").trim());
  return env;
}

/** Adds ctx.render(template, view): the page with the layout's navigation, as HTML. */
export function viewMiddleware(env: nunjucks.Environment, site: { version: string }) {
  return async (ctx: Context, next: Next) => {
    ctx.render = async (template, view = {}) => {
      const html = await new Promise<string>((resolve, reject) =>
        env.render(`${template}.njk`, { ...view, nav: navigation, path: ctx.path, version: site.version }, (err, out) =>
          err ? reject(err) : resolve(out ?? ""),
        ),
      );
      ctx.type = "text/html; charset=utf-8";
      ctx.body = html;
    };
    await next();
  };
}

/** Renders a template to a string, for fragments pushed over SSE. */
export function renderFragment(env: nunjucks.Environment, template: string, view: Record<string, unknown>): string {
  return env.render(`${template}.njk`, view);
}
