import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import type { Environment } from "../core/branch.js";
import { packageRoot } from "../config/package-root.js";
import { repoDir } from "../forge/paths.js";
import { privateRoot, type EnvironmentBackend } from "./backend.js";
import { environmentPath, environmentVariables } from "./process-spec.js";
import { sandboxArgv } from "./sandbox.js";

const privateHome = (environment: Environment) => join(privateRoot(environment), "home");
const privateTmp = (environment: Environment) => join(privateRoot(environment), "tmp");
const isUnder = (path: string, folder: string) => path === folder || path.startsWith(`${folder}/`);

/**
 * The sandbox backend: the local backend's checkout, with every process run under bubblewrap
 * (sandbox.ts). Inside, it may write only its checkout, a private HOME and a private /tmp; it sees
 * the system read-only, but not the data dir (database, hook secret, other environments, bare
 * repos — except the one repo's objects, read-only, that the checkout's alternates name), nor the
 * host user's home or /root. The network is the host's unless cook.toml says `network = false`,
 * which leaves it none at all: the forge included, so such an environment cannot push.
 */
export const sandboxBackend: EnvironmentBackend = {
  name: "sandbox",
  wrap(context, command, options = {}) {
    const environment = context.environment;
    const home = privateHome(environment);
    const env: Record<string, string> = {
      PATH: environmentPath("/usr/local/bin:/usr/bin:/bin"),
      HOME: home,
      USER: "cook",
      LANG: "C.UTF-8",
      ...environmentVariables(context),
      ...options.env,
    };
    if (options.interactive) env.TERM = "xterm-256color";
    const hidden = [...new Set([context.dataDir, homedir(), "/root"])].filter((path) => existsSync(path));
    // What the environment needs from under a hidden folder: its repo's objects (alternates), and
    // Cook and node themselves when they are installed in a home or under /tmp.
    const needed = [join(repoDir(context.dataDir, context.repo), "objects"), packageRoot(), dirname(process.execPath), ...(options.readOnly ?? [])];
    // /tmp inside is the environment's own, so anything of the host's under /tmp is re-exposed too.
    const readOnly = needed.filter((path) => [...hidden, "/tmp"].some((folder) => isUnder(path, folder)));
    const argv = sandboxArgv(
      { checkout: environment.path, home, tmp: privateTmp(environment), network: environment.network, hidden, readOnly, cwd: environment.path, env, terminal: options.interactive },
      command,
    );
    return { argv, cwd: environment.path, env };
  },
  privateFolders: (environment) => [privateRoot(environment), privateHome(environment), privateTmp(environment)],
};
