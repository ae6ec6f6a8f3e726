#!/usr/bin/env node
// The install-time build: compiles src/ to dist/ and copies browser assets into public/vendor.
// `npm install -g .` from a fresh clone links the checkout without installing its dependencies
// into it, so they are installed here first (scripts off: this script is the only one needed).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
// An outer `npm install -g` passes npm_config_global and friends down; the inner install is local.
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith("npm_config_")));
const run = (command, args) => {
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit", env });
  if (result.status !== 0) process.exit(result.status ?? 1);
};

if (!existsSync(join(root, "node_modules", "typescript", "package.json"))) {
  run("npm", ["install", "--ignore-scripts", "--no-audit", "--no-fund"]);
}
run(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", process.argv[2] ?? "tsconfig.json"]);
run(process.execPath, [join(root, "scripts", "copy-assets.mjs")]);
