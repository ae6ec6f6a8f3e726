import { spawn } from "node:child_process";
import { setPriority } from "node:os";
import { Readable } from "node:stream";
import { gitEnv } from "./run-git.js";

export interface BlobStream {
  /** The first `peekBytes` of the blob (all of it when shorter), already read; `stream` still starts with them. */
  head: Buffer;
  /** The whole blob. Destroying it (a client that went away) kills the git process behind it. */
  stream: Readable;
}

/**
 * A blob streamed from its own short-lived `git cat-file blob`, never through the repository's
 * shared cat-file reader: a download of 100 MB read there would hold up every page of the repo
 * behind it. `sha` must name a blob (look it up with `info` first); the stream ends early if git fails.
 */
export async function streamBlob(gitDir: string, sha: string, peekBytes: number): Promise<BlobStream> {
  const child = spawn("git", ["--git-dir", gitDir, "cat-file", "blob", sha], { env: gitEnv(), stdio: ["ignore", "pipe", "ignore"] });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  child.on("error", () => {}); // a failed spawn ends stdout; the short response tells the client
  // A bulk download yields the CPU to the pages people are waiting on: git inflating 100 MB at
  // full speed took a core that page requests then queued for (scripts/bench/browse-under-load.mjs).
  if (child.pid) {
    try {
      setPriority(child.pid, 10);
    } catch {
      // Not allowed to change priorities here: the download runs at normal priority.
    }
  }
  const chunks = child.stdout[Symbol.asyncIterator]();

  // The head decides the response headers (binary or text), so it is read before the body is sent.
  const headChunks: Buffer[] = [];
  let headLength = 0;
  try {
    while (headLength < peekBytes) {
      const next = await chunks.next();
      if (next.done) break;
      headChunks.push(next.value as Buffer);
      headLength += (next.value as Buffer).length;
    }
  } catch (err) {
    kill();
    throw err;
  }
  const head = Buffer.concat(headChunks);

  async function* all(): AsyncGenerator<Buffer> {
    yield head;
    for (;;) {
      const next = await chunks.next();
      if (next.done) return;
      yield next.value as Buffer;
    }
  }
  const stream = Readable.from(all(), { objectMode: false });
  stream.once("close", kill);
  return { head, stream };
}
