export type Row = Record<string, unknown>;

/** Anything that runs SQL: the database itself or an open transaction. */
export interface Queryable {
  query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

/** An open transaction. */
export interface Tx extends Queryable {
  /** Runs `callback` once the transaction has committed (never if it rolls back). */
  afterCommit(callback: () => void): void;
}

export type DbKind = "postgres" | "pglite";

export interface Db extends Queryable {
  readonly kind: DbKind;
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Wraps a driver's transaction runner with afterCommit callbacks. */
export async function runWithCommitHooks<T>(
  run: (attach: (q: Queryable) => Tx) => Promise<T>,
): Promise<T> {
  const callbacks: Array<() => void> = [];
  const attach = (q: Queryable): Tx => ({ query: q.query, exec: q.exec, afterCommit: (cb) => void callbacks.push(cb) });
  const result = await run(attach);
  for (const callback of callbacks) {
    try {
      callback();
    } catch {
      // A commit hook only nudges (wakes the relay); its failure must not turn a commit into an error.
    }
  }
  return result;
}

/** Whether the database answers at all: for /healthz. */
export async function pingDatabase(db: Queryable): Promise<void> {
  await db.query("SELECT 1");
}
