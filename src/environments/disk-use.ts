import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { LRUCache } from "lru-cache";
import type { Environment } from "../core/branch.js";
import { backendFor } from "./backends.js";

/** Disk use of environments, measured by `du` in the background and remembered for a short while. */
export interface DiskUse {
  /**
   * The last size measured, in bytes, or undefined when none is known; `fresh` when it is newer
   * than `freshMs`. Never waits and never starts a measurement: a page shows what is known and
   * asks `measure` for the rest in a request of its own.
   */
  peek(environment: Environment): { bytes: number | undefined; fresh: boolean };
  /** The size once a measurement newer than `freshMs` is done; undefined when `du` failed or took too long. */
  measure(environment: Environment): Promise<number | undefined>;
}

export interface DiskUseOptions {
  /** A size this old is measured again when next asked for (default 30 s). */
  freshMs?: number;
  /** `du` processes at once: they walk the disk, and the machine has other work (default 2). */
  concurrency?: number;
  /** A `du` that takes longer is stopped and the size stays unknown (default 60 s). */
  timeoutMs?: number;
}

interface Entry {
  bytes: number | undefined;
  at: number;
  running: Promise<number | undefined> | undefined;
}

/**
 * Measures with `du -sk` as a child process, never by walking the tree in the server: a checkout
 * with node_modules holds hundreds of thousands of files, and a synchronous walk would stop every
 * request for seconds. The folders counted are the checkout and the backend's private folders
 * (a sandbox's HOME and /tmp), each once.
 */
export function createDiskUse(options: DiskUseOptions = {}): DiskUse {
  const freshMs = options.freshMs ?? 30_000;
  const concurrency = options.concurrency ?? 2;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const entries = new LRUCache<string, Entry>({ max: 5000 });
  const waiting: Array<() => void> = [];
  let active = 0;

  const slot = async () => {
    if (active >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
  };
  const release = () => {
    active--;
    waiting.shift()?.();
  };

  const start = (environment: Environment, entry: Entry): Promise<number | undefined> => {
    entry.running ??= (async () => {
      await slot();
      try {
        const bytes = await du(foldersOf(environment), timeoutMs);
        entry.bytes = bytes ?? entry.bytes;
        return bytes;
      } finally {
        entry.at = Date.now();
        entry.running = undefined;
        release();
      }
    })();
    return entry.running;
  };

  const entryOf = (environment: Environment): Entry => {
    let entry = entries.get(environment.id);
    if (!entry) entries.set(environment.id, (entry = { bytes: undefined, at: 0, running: undefined }));
    return entry;
  };

  return {
    peek(environment) {
      const entry = entries.get(environment.id);
      return { bytes: entry?.bytes, fresh: entry !== undefined && entry.running === undefined && Date.now() - entry.at <= freshMs };
    },
    async measure(environment) {
      const entry = entryOf(environment);
      if (entry.running) return entry.running;
      if (Date.now() - entry.at <= freshMs && entry.bytes !== undefined) return entry.bytes;
      return start(environment, entry);
    },
  };
}

/** The environment's folders, without one inside another (a sandbox's HOME is inside its private root). */
function foldersOf(environment: Environment): string[] {
  const all = [environment.path, ...backendFor(environment.backend).privateFolders(environment)];
  return all.filter((folder) => existsSync(folder) && !all.some((other) => other !== folder && folder.startsWith(`${other}/`)));
}

function du(folders: string[], timeoutMs: number): Promise<number | undefined> {
  if (folders.length === 0) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    // -P (du's default) counts a symlink as itself: a link to / is not the size of the disk.
    execFile("du", ["-s", "-k", "-P", "--", ...folders], { timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: 64 * 1024 }, (err, stdout) => {
      // du exits 1 when a file vanished or could not be read during the walk; what it printed still counts.
      const sizes = stdout.split("\n").map((line) => /^(\d+)\t/.exec(line)?.[1]).filter((n): n is string => n !== undefined);
      if (sizes.length === 0 || (err && (err as { killed?: boolean }).killed)) return resolve(undefined);
      resolve(sizes.reduce((sum, kib) => sum + Number(kib) * 1024, 0));
    });
  });
}
