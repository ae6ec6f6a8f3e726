import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../config/package-root.js";
import type { Git } from "../git/git.js";

export const hookNames = ["pre-receive", "post-receive"] as const;

// What every repo served by Cook is configured with (gitprotocol-v2, git-config(1)).
const repoConfig: Array<[string, string, "--replace-all" | "--add"]> = [
  ["uploadpack.allowFilter", "true", "--replace-all"], // partial clone: --filter=blob:none
  ["uploadpack.allowAnySHA1InWant", "true", "--replace-all"], // lazy fetches of filtered blobs over v0
  ["receive.advertisePushOptions", "true", "--replace-all"], // git push -o …, passed on to events
  ["transfer.hideRefs", "refs/archive/", "--replace-all"], // archived branches are kept, not advertised
  ["receive.denyNonFastForwards", "false", "--replace-all"], // policy lives in pre-receive, not here
  ["repack.writeBitmaps", "true", "--replace-all"], // clones reuse packs instead of recomputing them
  ["core.logAllRefUpdates", "true", "--replace-all"], // reflogs: a record of every ref move
];

export async function configureRepo(git: Git, gitDir: string): Promise<void> {
  for (const [key, value] of repoConfig) await git.run(gitDir, ["config", key, value]);
}

/** The hook scripts as shipped; both names are the same script, which tells them apart by name. */
export function hookScript(): string {
  return readFileSync(join(packageRoot(), "hooks", "pre-receive"), "utf8");
}

/** Installs or refreshes the hooks; returns whether anything was written. */
export function installHooks(gitDir: string, script = hookScript()): boolean {
  let changed = false;
  for (const name of hookNames) {
    const file = join(gitDir, "hooks", name);
    let current: string | undefined;
    try {
      current = readFileSync(file, "utf8");
    } catch {
      current = undefined;
    }
    if (current !== script) {
      writeFileSync(file, script, { mode: 0o700 });
      changed = true;
    }
    chmodSync(file, 0o700);
  }
  return changed;
}
