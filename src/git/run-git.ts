import { spawn } from "node:child_process";
import { CookError } from "../core/errors.js";

export interface GitResult {
  stdout: Buffer;
  stderr: string;
  code: number;
  /** The output reached `maxStdoutBytes`: git was stopped and `stdout` is its first bytes. */
  cut?: boolean;
}

export interface RunGitOptions {
  cwd?: string;
  gitDir?: string;
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
  /** Exit codes that are answers, not failures (e.g. 1 from `git diff --quiet`). */
  okCodes?: number[];
  timeoutMs?: number;
  /** Stop git once it has printed this much, and answer with what it printed so far (`cut`) rather than an error. */
  maxStdoutBytes?: number;
}

// Never prompt, never read the user's or the system's config: a server's git must behave the same
// whatever the host has in ~/.gitconfig. Transports that run commands are refused.
export function gitEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LANG: "C",
    GIT_TERMINAL_PROMPT: "0",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_PROTOCOL_FROM_USER: "0",
    GIT_AUTHOR_NAME: "Cook",
    GIT_AUTHOR_EMAIL: "cook@localhost",
    GIT_COMMITTER_NAME: "Cook",
    GIT_COMMITTER_EMAIL: "cook@localhost",
    ...extra,
  };
}

/** Runs git to completion; a non-zero exit becomes an error carrying git's own message. */
export function runGit(args: string[], options: RunGitOptions = {}): Promise<GitResult> {
  const fullArgs = options.gitDir ? ["--git-dir", options.gitDir, ...args] : args;
  return new Promise((resolve, reject) => {
    const child = spawn("git", fullArgs, { cwd: options.cwd, env: gitEnv(options.env), stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let size = 0;
    let cut = false;
    let err = "";
    child.stdout.on("data", (chunk: Buffer) => {
      if (cut) return;
      out.push(chunk);
      size += chunk.length;
      if (options.maxStdoutBytes !== undefined && size >= options.maxStdoutBytes) {
        cut = true;
        child.kill("SIGKILL");
      }
    });
    child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
    const timer = options.timeoutMs ? setTimeout(() => child.kill("SIGKILL"), options.timeoutMs) : undefined;
    child.on("error", (error) => reject(new CookError("unavailable", `cannot run git: ${error.message}`)));
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      const result = { stdout: Buffer.concat(out), stderr: err, code: code ?? -1 };
      if (cut) return resolve({ ...result, stdout: result.stdout.subarray(0, options.maxStdoutBytes), cut });
      if (code === 0 || (code !== null && options.okCodes?.includes(code))) return resolve(result);
      const detail = signal ? `killed by ${signal}` : err.trim().split("\n").slice(-3).join(" ") || `exit code ${code}`;
      reject(new GitCommandError(`git ${args[0]} failed: ${detail}`, result));
    });
    child.stdin.on("error", () => {}); // git may exit before reading all input; its exit code tells
    child.stdin.end(options.input ?? "");
  });
}

export class GitCommandError extends Error {
  override name = "GitCommandError";
  constructor(message: string, readonly result: GitResult) {
    super(message);
  }
}

export async function gitText(args: string[], options: RunGitOptions = {}): Promise<string> {
  return (await runGit(args, options)).stdout.toString("utf8");
}
