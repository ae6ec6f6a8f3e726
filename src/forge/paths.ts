import { join } from "node:path";
import { checkRepoName } from "../core/names.js";

export const reposDirOf = (dataDir: string) => join(dataDir, "repos");
export const trashDirOf = (dataDir: string) => join(dataDir, "trash");

/** The bare repository of a repo name; the name is checked first, so the path stays inside repos/. */
export function repoDir(dataDir: string, name: string): string {
  return join(reposDirOf(dataDir), `${checkRepoName(name)}.git`);
}
