import { LRUCache } from "lru-cache";
import { streamBlob, type BlobStream } from "./blob-stream.js";
import { CatFile } from "./cat-file.js";
import { gitText, runGit, type GitResult, type RunGitOptions } from "./run-git.js";

/** Git for the server: pooled cat-file readers per repository plus one-shot commands. */
export interface Git {
  /** The long-lived reader for one bare repository. */
  reader(gitDir: string): CatFile;
  run(gitDir: string, args: string[], options?: RunGitOptions): Promise<GitResult>;
  text(gitDir: string, args: string[], options?: RunGitOptions): Promise<string>;
  /**
   * `text`, remembered: only for commands whose output depends on nothing but object ids (a
   * history walk from a commit sha, a diff of two trees), which can never change. At most 16 MiB
   * of answers are kept, least recently used dropped first; a failed command is not kept.
   */
  immutableText(gitDir: string, args: string[], options?: RunGitOptions): Promise<string>;
  /** What `immutableText` remembers for this command, or undefined; never runs git. */
  rememberedText(gitDir: string, args: string[], options?: RunGitOptions): string | undefined;
  /**
   * `run`'s output for a command that lists refs (for-each-ref), remembered until the repo's refs
   * move — `refsMoved`, which the post-receive hook calls for every push and `run` calls after any
   * command not known to only read — or for `refListingMs` (default 5 s) at most, a safety net for
   * refs moved by hand on the disk. Concurrent asks share one git process. With `revalidate`, a
   * listing past that age is answered at once while a fresh one is read for the next ask: for
   * pages that must not wait on a process for a safety net (refs that moved by git never come stale).
   */
  refListing(gitDir: string, args: string[], options?: { revalidate?: boolean }): Promise<Buffer>;
  /** Forgets the remembered ref listings of a repository whose refs moved. */
  refsMoved(gitDir: string): void;
  /** A blob streamed by its own git process, not the shared reader (see blob-stream.ts). */
  streamBlob(gitDir: string, sha: string, peekBytes: number): Promise<BlobStream>;
  /** Drops the reader of a repository that moved or went away. */
  forget(gitDir: string): void;
  close(): void;
}

/** How long after answering a listing past its age the fresh one is read (see refListing's `revalidate`). */
const revalidateDelayMs = 250;

interface Listing {
  at: number;
  out: Promise<Buffer>;
  /** The listing has arrived (a failed one is dropped). */
  done: boolean;
  /** A fresh listing is being read to replace this one. */
  refreshing: boolean;
}

// Subcommands that never move a ref: running them leaves remembered ref listings valid.
const readOnlyCommands = new Set(["cat-file", "diff", "diff-tree", "for-each-ref", "log", "ls-tree", "merge-base", "rev-list", "rev-parse", "show"]);
const subcommandOf = (args: string[]) => args.find((arg) => !arg.startsWith("-"));

export function createGit(options: { idleMs?: number; refListingMs?: number } = {}): Git {
  const refListings = new Map<string, Map<string, Listing>>();
  const refListingMs = options.refListingMs ?? 5000;
  const refsMoved = (gitDir: string) => void refListings.delete(gitDir);
  const readers = new Map<string, CatFile>();
  // A page of history costs a git process (tens of ms on a busy machine); the answer for a commit
  // sha is the same forever. lru-cache bounds it by size, which a Map would not.
  const answers = new LRUCache<string, string>({ maxSize: 16 * 1024 * 1024, sizeCalculation: (text, key) => text.length + key.length + 1 });
  const answering = new Map<string, Promise<string>>();
  const answerKey = (gitDir: string, args: string[], runOptions: RunGitOptions) => JSON.stringify([gitDir, args, runOptions.input?.toString() ?? ""]);
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
    async run(gitDir, args, runOptions = {}) {
      try {
        return await runGit(args, { ...runOptions, gitDir });
      } finally {
        if (!readOnlyCommands.has(subcommandOf(args) ?? "")) refsMoved(gitDir);
      }
    },
    refListing(gitDir, args, listingOptions = {}) {
      let listings = refListings.get(gitDir);
      if (!listings) refListings.set(gitDir, (listings = new Map()));
      const map = listings;
      const key = JSON.stringify(args);
      const read = (): Listing => {
        const entry: Listing = { at: Date.now(), out: runGit(args, { gitDir }).then((result) => result.stdout), done: false, refreshing: false };
        entry.out.then(
          () => void (entry.done = true),
          () => map.get(key) === entry && map.delete(key),
        );
        return entry;
      };
      const known = map.get(key);
      if (known && Date.now() - known.at < refListingMs) return known.out;
      if (known?.done && listingOptions.revalidate) {
        if (!known.refreshing) {
          known.refreshing = true;
          // Started a moment later, not now: spawning forks this process, which blocks it for
          // about 15 ms a process (the embedded database makes it large), and the caller is
          // answering a page that may still wait on its database queries.
          setTimeout(() => {
            const next = read();
            // A listing dropped meanwhile (refsMoved) stays dropped: the map it was in is gone.
            next.out.then(
              () => void (map.get(key) === known && map.set(key, next)),
              () => void (known.refreshing = false),
            );
          }, revalidateDelayMs).unref();
        }
        return known.out;
      }
      const entry = read();
      map.set(key, entry);
      return entry.out;
    },
    refsMoved,
    text: (gitDir, args, runOptions = {}) => gitText(args, { ...runOptions, gitDir }),
    immutableText(gitDir, args, runOptions = {}) {
      const key = answerKey(gitDir, args, runOptions);
      const known = answers.get(key);
      if (known !== undefined) return Promise.resolve(known);
      // Concurrent asks for the same answer share one git process.
      let running = answering.get(key);
      if (!running) {
        running = gitText(args, { ...runOptions, gitDir }).then((text) => {
          answers.set(key, text);
          return text;
        });
        answering.set(key, running);
        void running.then(
          () => answering.delete(key),
          () => answering.delete(key),
        );
      }
      return running;
    },
    rememberedText: (gitDir, args, runOptions = {}) => answers.get(answerKey(gitDir, args, runOptions)),
    streamBlob,
    forget(gitDir) {
      refsMoved(gitDir);
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
