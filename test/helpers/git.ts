import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { gitEnv as serverGitEnv } from "../../src/git/run-git.js";

export interface GitRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The real git client, isolated from the developer's config and never prompting (as the server's git is). */
export function gitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return serverGitEnv({
    GIT_AUTHOR_NAME: "Test Author",
    GIT_AUTHOR_EMAIL: "author@example.com",
    GIT_COMMITTER_NAME: "Test Author",
    GIT_COMMITTER_EMAIL: "author@example.com",
    GIT_PROTOCOL_FROM_USER: "1",
    ...extra,
  });
}

export function git(args: string[], options: { cwd?: string; env?: Record<string, string>; input?: string | Buffer } = {}): Promise<GitRun> {
  return new Promise((resolve, reject) => {
    const child = spawn("git", args, { cwd: options.cwd, env: gitEnv(options.env), stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.on("error", () => {}); // the command may exit without reading its input
    child.stdin.end(options.input ?? "");
  });
}

/** Like git(), but a non-zero exit fails the test with git's stderr. */
export async function gitOk(args: string[], options: { cwd?: string; env?: Record<string, string>; input?: string } = {}): Promise<string> {
  const result = await git(args, options);
  if (result.code !== 0) throw new Error(`git ${args.join(" ")} exited ${result.code}:\n${result.stderr}`);
  return result.stdout;
}

export function tempDir(prefix = "cook-git-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A new non-bare repository with one commit per entry of `commits` (path → contents). */
export async function makeWorkRepo(commits: Array<Record<string, string | Buffer>>, branch = "main"): Promise<string> {
  const dir = tempDir("cook-work-");
  await gitOk(["init", "--quiet", `--initial-branch=${branch}`, dir]);
  for (const [i, files] of commits.entries()) {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
    await gitOk(["add", "--all"], { cwd: dir });
    await gitOk(["commit", "--quiet", "--allow-empty", "-m", `commit ${i + 1}`], { cwd: dir });
  }
  return dir;
}

export async function revParse(dir: string, rev: string): Promise<string> {
  return (await gitOk(["rev-parse", rev], { cwd: dir })).trim();
}

/** Refs of a remote as `git ls-remote` sees them: name → sha. */
export async function lsRemote(url: string, env: Record<string, string> = {}): Promise<Record<string, string>> {
  const out = await gitOk(["ls-remote", url], { env });
  return Object.fromEntries(out.split("\n").filter(Boolean).map((line) => line.split("\t").reverse() as [string, string]));
}
