import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { CookError } from "../core/errors.js";
import { encodeGitText } from "./git-text.js";
import { gitEnv } from "./run-git.js";

export type ObjectType = "blob" | "tree" | "commit" | "tag";

export interface ObjectInfo {
  sha: string;
  type: ObjectType;
  size: number;
}

export interface GitObject extends ObjectInfo {
  content: Buffer;
}

interface Pending {
  withContent: boolean;
  resolve(value: GitObject | ObjectInfo | undefined): void;
  reject(err: Error): void;
}

/**
 * One long-lived `git cat-file --batch-command` per repository: every object read by the code
 * browser is a line written to it rather than a new process (a process per object is what makes
 * some forges thousands of times slower than git itself).
 */
export class CatFile {
  private child: ChildProcessWithoutNullStreams | undefined;
  private readonly queue: Pending[] = [];
  private buffer: Buffer = Buffer.alloc(0);
  /** The object whose content is arriving: `filled` counts bytes received, its trailing newline included. */
  private body: { info: ObjectInfo; content: Buffer; filled: number } | undefined;
  private lastUse = Date.now();

  constructor(private readonly gitDir: string) {}

  get idleMs(): number {
    return this.queue.length > 0 ? 0 : Date.now() - this.lastUse;
  }

  /** The object a revision expression (`main`, `<sha>`, `main:src/app.ts`) names, or undefined. */
  read(rev: string): Promise<GitObject | undefined> {
    return this.send(`contents ${rev}`, true) as Promise<GitObject | undefined>;
  }

  info(rev: string): Promise<ObjectInfo | undefined> {
    return this.send(`info ${rev}`, false);
  }

  close(): void {
    const child = this.child;
    this.child = undefined;
    child?.stdin.end();
    child?.kill();
    this.failAll(new Error("cat-file closed"));
  }

  private send(command: string, withContent: boolean): Promise<GitObject | ObjectInfo | undefined> {
    // The protocol is line-based: a newline in a revision would smuggle in a second command.
    if (/[\r\n\0]/.test(command)) return Promise.reject(new CookError("invalid", "a revision or path cannot contain a line break"));
    this.lastUse = Date.now();
    const child = this.child ?? this.start();
    return new Promise((resolve, reject) => {
      this.queue.push({ withContent, resolve, reject });
      // Revisions may name refs whose bytes are not UTF-8 (git-text strings keep them).
      child.stdin.write(Buffer.concat([encodeGitText(command), Buffer.of(0x0a)]));
    });
  }

  private start(): ChildProcessWithoutNullStreams {
    const child = spawn("git", ["--git-dir", this.gitDir, "cat-file", "--batch-command"], { env: gitEnv(), stdio: ["pipe", "pipe", "pipe"] });
    child.stdout.on("data", (chunk: Buffer) => {
      this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
      this.drain();
    });
    child.stderr.resume();
    child.stdin.on("error", () => {});
    child.on("error", (err) => this.failAll(err));
    child.on("exit", () => {
      if (this.child === child) this.child = undefined;
      this.failAll(new Error("git cat-file exited"));
    });
    this.child = child;
    return child;
  }

  private drain(): void {
    for (;;) {
      const pending = this.queue[0];
      if (!pending) return;
      if (this.body) {
        // Content is copied once into a buffer of its final size: appending chunk by chunk to one
        // growing buffer made reading a 64 MB blob quadratic (38 s, every other read of the repo waiting).
        const body = this.body;
        const take = Math.min(body.content.length + 1 - body.filled, this.buffer.length);
        this.buffer.copy(body.content, body.filled, 0, Math.min(take, body.content.length - body.filled));
        body.filled += take;
        this.buffer = this.buffer.subarray(take);
        if (body.filled < body.content.length + 1) return; // content and its trailing newline not all here yet
        this.body = undefined;
        this.queue.shift();
        pending.resolve({ ...body.info, content: body.content });
        continue;
      }
      const newline = this.buffer.indexOf(0x0a);
      if (newline < 0) return;
      const header = this.buffer.subarray(0, newline).toString("utf8");
      this.buffer = this.buffer.subarray(newline + 1);
      const parts = header.split(" ");
      if (parts.length !== 3 || !/^[0-9a-f]{40}$/.test(parts[0]!)) {
        // `<rev> missing` or `<rev> ambiguous`: the revision names no single object.
        this.queue.shift();
        pending.resolve(undefined);
        continue;
      }
      const info: ObjectInfo = { sha: parts[0]!, type: parts[1] as ObjectType, size: Number(parts[2]) };
      if (!pending.withContent) {
        this.queue.shift();
        pending.resolve(info);
        continue;
      }
      this.body = { info, content: Buffer.allocUnsafe(info.size), filled: 0 };
    }
  }

  private failAll(err: Error): void {
    this.buffer = Buffer.alloc(0);
    this.body = undefined;
    for (const pending of this.queue.splice(0)) pending.reject(err);
  }
}
