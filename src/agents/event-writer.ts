import type { Db, Tx } from "../db/db.js";

/** A write of one run's events (and what goes with them) inside a transaction the writer holds. */
export type WriteJob = (tx: Tx) => Promise<void>;

export interface AgentEventWriter {
  /** Resolves once the job is committed; rejects with its error when it cannot be. */
  write(job: WriteJob): Promise<void>;
}

/**
 * Writes the events of every running agent in shared transactions: jobs that arrive within
 * `windowMs` of each other commit together, so 20 agents printing 50 lines a second cost a few
 * dozen transactions a second, not hundreds (each one a round of the outbox relay too). When a
 * shared transaction fails, each of its jobs is tried alone, so one bad write fails only itself.
 */
export function createAgentEventWriter(db: Db, windowMs = 20): AgentEventWriter {
  let queue: Array<{ job: WriteJob; resolve(): void; reject(err: unknown): void }> = [];
  let scheduled = false;
  let chain = Promise.resolve();

  const flush = () => {
    scheduled = false;
    const batch = queue;
    queue = [];
    chain = chain.then(async () => {
      try {
        await db.transaction(async (tx) => {
          for (const item of batch) await item.job(tx);
        });
        for (const item of batch) item.resolve();
      } catch {
        for (const item of batch) {
          await db.transaction((tx) => item.job(tx)).then(item.resolve, item.reject);
        }
      }
    });
  };

  return {
    write(job) {
      return new Promise<void>((resolve, reject) => {
        queue.push({ job, resolve, reject });
        if (!scheduled) {
          scheduled = true;
          setTimeout(flush, windowMs);
        }
      });
    },
  };
}
