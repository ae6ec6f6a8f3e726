#!/usr/bin/env node
// Copies browser libraries installed from npm into public/vendor, so pages load them from the
// factory itself (never from a CDN) at the exact version package-lock.json pins.
import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(join(root, "package.json"));
const vendor = join(root, "public", "vendor");
mkdirSync(vendor, { recursive: true });

const assets = [
  ["htmx.org/dist/htmx.min.js", "htmx.min.js"],
  ["htmx-ext-sse/dist/sse.min.js", "htmx-ext-sse.min.js"],
  ["highlight.js/styles/github.min.css", "highlight-github.min.css"],
  // The Terminal tab: ES modules, imported by public/js/terminal.js.
  ["@xterm/xterm/lib/xterm.mjs", "xterm.mjs"],
  ["@xterm/xterm/css/xterm.css", "xterm.css"],
  ["@xterm/addon-fit/lib/addon-fit.mjs", "addon-fit.mjs"],
];
for (const [from, to] of assets) copyFileSync(require.resolve(from), join(vendor, to));
