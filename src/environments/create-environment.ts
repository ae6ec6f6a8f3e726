import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import type { Branch, Environment } from "../core/branch.js";
import { CookError } from "../core/errors.js";
import { newId } from "../core/ids.js";
import type { RepoConfig } from "../config/repo-config.js";
import { appendSetupLog, insertEnvironment, lockPortBlocks, setEnvironmentDatabases, takenPortBlocks } from "../db/environment-store.js";
import { insertToken } from "../db/token-store.js";
import { repoDir } from "../forge/paths.js";
import { backendFor } from "./backends.js";
import { makeCheckout } from "./checkout.js";
import { copyIntoCheckout } from "./copy-files.js";
import { createEnvironmentDatabases } from "./databases.js";
import type { EnvironmentDeps } from "./deps.js";
import { environmentTokenSecret } from "./env-token.js";
import { appendEnvironmentEvent, moveEnvironment } from "./environment-events.js";
import { allocatePortBlock } from "./ports.js";
import { runSetup } from "./setup-script.js";

export interface EnvironmentRequest {
  backend: "local" | "sandbox";
  /** `local:<path>`: an absolute folder that does not exist yet or is empty (admins only; the caller checks). */
  path?: string;
  /** `[environment]` of the repo's cook.toml on the base branch. */
  config: RepoConfig["environment"];
  /** The task as markdown, written as TASK.md. */
  taskMarkdown?: string;
}

/** The repo's smart HTTP URL as environments reach it: their checkout's `origin`. */
export const forgeUrlOf = (deps: Pick<EnvironmentDeps, "factory">, repo: string) => `${deps.factory.url()}/${repo}.git`;

export function defaultEnvironmentPath(dataDir: string, branch: Branch): string {
  return join(dataDir, "envs", branch.repo, branch.id);
}

function checkChosenPath(dataDir: string, path: string): string {
  if (!isAbsolute(path)) throw new CookError("invalid", `local:${path} must name an absolute folder`);
  const full = resolve(path);
  if (full === dataDir || full.startsWith(`${dataDir}/`)) throw new CookError("invalid", `local:${path} is inside the server's data dir; leave the path out to use the default place`);
  if (existsSync(full) && readdirSync(full).length > 0) throw new CookError("conflict", `local:${path} is not empty; an environment needs a new or empty folder`);
  return full;
}

/**
 * Makes a branch's environment: the record (state `creating`, a port block, an environment token
 * scoped to the branch), then the checkout, copied files and databases, then the setup script in
 * the background (`ready` or `failed` when it ends; `ready` at once without one). A failure after
 * the record exists leaves the environment `failed` with its reason and log, never half-gone.
 * Throws invalid/conflict for a bad `local:` path and unavailable when no port block is free.
 */
export async function createEnvironment(deps: EnvironmentDeps, branch: Branch, request: EnvironmentRequest): Promise<Environment> {
  const backend = backendFor(request.backend);
  const path = request.path ? checkChosenPath(deps.dataDir, request.path) : defaultEnvironmentPath(deps.dataDir, branch);
  const id = newId("env");
  const now = new Date().toISOString();
  let environment = await deps.db.transaction(async (tx) => {
    await lockPortBlocks(tx);
    const portBase = await allocatePortBlock(request.config.ports, await takenPortBlocks(tx), deps.environmentSettings.portRange);
    const created = await insertEnvironment(tx, {
      id,
      branchId: branch.id,
      backend: backend.name,
      path,
      state: "creating",
      portBase,
      portCount: request.config.ports,
      databases: [],
      network: request.config.network,
      setupCommand: request.config.setup,
      error: undefined,
      createdAt: now,
      updatedAt: now,
      tornDownAt: undefined,
    });
    await insertToken(tx, id, `agent:${branch.repo}/${branch.name}`, environmentTokenSecret(deps.factory.secret, id));
    await appendEnvironmentEvent(deps, tx, branch, "creating", { id, backend: backend.name, path, portBase });
    return created;
  });

  try {
    await makeCheckout({ bareDir: repoDir(deps.dataDir, branch.repo), path, branch: branch.name, originUrl: forgeUrlOf(deps, branch.repo), taskMarkdown: request.taskMarkdown });
    for (const folder of backend.privateFolders(environment)) mkdirSync(folder, { recursive: true, mode: 0o700 });
    if (request.config.copy.length > 0) await copyConfiguredFiles(deps, branch, environment, request.config.copy);
    if (request.config.databases.length > 0) environment = await makeDatabases(deps, environment, request.config.databases);
  } catch (err) {
    const reason = err instanceof CookError || (err as Error).name === "GitCommandError" ? (err as Error).message : `could not make the environment: ${(err as Error).message}`;
    await appendSetupLog(deps.db, id, `${reason}\n`);
    return moveEnvironment(deps, branch, environment, "failed", reason);
  }
  if (!request.config.setup) return moveEnvironment(deps, branch, environment, "ready");
  void runSetup(deps, branch, environment, request.config.setup);
  return environment;
}

async function copyConfiguredFiles(deps: EnvironmentDeps, branch: Branch, environment: Environment, paths: readonly string[]): Promise<void> {
  const from = deps.environmentSettings.copyFrom?.replaceAll("{repo}", branch.repo);
  if (!from) {
    await appendSetupLog(deps.db, environment.id, "cook.toml asks to copy files, but the server has no [environments] copy_from folder; nothing copied\n");
    return;
  }
  const { copied, missing } = await copyIntoCheckout(from, environment.path, paths);
  await appendSetupLog(deps.db, environment.id, `copied ${copied.length} path(s) from ${from}${missing.length > 0 ? `; not there: ${missing.join(", ")}` : ""}\n`);
}

async function makeDatabases(deps: EnvironmentDeps, environment: Environment, names: readonly string[]): Promise<Environment> {
  const adminUrl = await deps.databaseServer.adminUrl();
  const databases = await createEnvironmentDatabases(adminUrl, environment.id, names, { template: deps.environmentSettings.databaseTemplate });
  await setEnvironmentDatabases(deps.db, environment.id, databases);
  return { ...environment, databases };
}
