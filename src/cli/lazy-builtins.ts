import { createRequire } from "node:module";

// Loaded on first use: most commands start no process, and node:child_process costs about 15 ms of
// a CLI start-up that is itself 180 ms on a slow machine (docs/benchmarks.md, Start-up).
const require = createRequire(import.meta.url);

/** node:child_process, loaded the first time a command starts a process (git, an editor, stty). */
export const childProcess = (): typeof import("node:child_process") => require("node:child_process") as typeof import("node:child_process");
