import { streamBlob, type BlobStream } from "./blob-stream.js";
import { CatFile } from "./cat-file.js";
import { gitText, runGit, type GitResult, type RunGitOptions } from "./run-git.js";

/** Git for the server: pooled cat-file readers per repository plus one-shot commands. */
export interface Git {
  /** The long-lived reader for one bare repository. */
  reader(gitDir: string): CatFile;
  run(gitDir: string, args: string[], options?: RunGitOptions): Promise<GitResult>;
  text(gitDir: string, args: string[], options?: RunGitOptions): Promise<string>;
  /** A blob streamed by its own git process, not the shared reader (see blob-stream.ts). */
  streamBlob(gitDir: string, sha: string, peekBytes: number): Promise<BlobStream>;
  /** Drops the reader of a repository that moved or went away. */
  forget(gitDir: string): void;
  close(): void;
}

export function createGit(options: { idleMs?: number } = {}): Git {
  const readers = new Map<string, CatFile>();
  const idleMs = options.idleMs ?? 60_000;
  // Readers of repositories nobody is browsing are closed, so an idle server holds no git processes.
  const sweeper = setInterval(() => {
    for (const [gitDir, reader] of readers) {
      if (reader.idleMs > idleMs) {
        reader.close();
        readers.delete(gitDir);
      }
    }
  }, Math.min(idleMs, 10_000));
  sweeper.unref();

  return {
    reader(gitDir) {
      let reader = readers.get(gitDir);
      if (!reader) {
        reader = new CatFile(gitDir);
        readers.set(gitDir, reader);
      }
      return reader;
    },
    run: (gitDir, args, runOptions = {}) => runGit(args, { ...runOptions, gitDir }),
    text: (gitDir, args, runOptions = {}) => gitText(args, { ...runOptions, gitDir }),
    streamBlob,
    forget(gitDir) {
      readers.get(gitDir)?.close();
      readers.delete(gitDir);
    },
    close() {
      clearInterval(sweeper);
      for (const reader of readers.values()) reader.close();
      readers.clear();
    },
  };
}
