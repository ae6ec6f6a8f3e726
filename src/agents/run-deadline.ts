/** A signal that aborts with `parent` or after `ms`, whichever comes first; dispose() when done. */
export interface Deadline {
  signal: AbortSignal;
  /** Whether it was the time that ran out (not the parent). */
  timedOut(): boolean;
  dispose(): void;
}

/** For a one-off agent run (a review, a plan): killed when its caller gives up or its time is up (ms). */
export function deadline(parent: AbortSignal, ms: number): Deadline {
  const abort = new AbortController();
  const stop = () => abort.abort();
  parent.addEventListener("abort", stop, { once: true });
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    abort.abort();
  }, ms);
  return {
    signal: abort.signal,
    timedOut: () => expired,
    dispose() {
      clearTimeout(timer);
      parent.removeEventListener("abort", stop);
    },
  };
}
