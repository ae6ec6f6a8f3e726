import { isServerRouteName } from "../core/names.js";

export type GitEndpoint = "info/refs" | "git-upload-pack" | "git-receive-pack";

export interface GitPath {
  /** The repo name as written in the URL (decoded, without `.git`); not yet checked. */
  repo: string;
  endpoint: GitEndpoint;
}

const gitPath = /^\/([^/]+)\/(info\/refs|git-upload-pack|git-receive-pack)$/;

/**
 * Which smart HTTP endpoint a request path names: `/<repo>.git/<endpoint>`, or `/<repo>/<endpoint>`
 * (git tries that when cloned without `.git`) unless the first segment is one of the server's own
 * routes — so `/tasks/git-upload-pack` is the task of that id, never git.
 */
export function parseGitPath(path: string): GitPath | undefined {
  const match = gitPath.exec(path);
  if (!match) return undefined;
  let segment: string;
  try {
    segment = decodeURIComponent(match[1]!);
  } catch {
    return undefined;
  }
  const endpoint = match[2] as GitEndpoint;
  if (segment.endsWith(".git")) return { repo: segment.slice(0, -4), endpoint };
  if (isServerRouteName(segment)) return undefined;
  return { repo: segment, endpoint };
}
