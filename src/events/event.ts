/** One entry of the event log, as stored, published on the bus and shown to users. */
export interface Event {
  /** Position in the log; increases in commit order. */
  id: number;
  subject: string;
  /** `<kind>.<action>`, e.g. `branch.pushed`. */
  type: string;
  repo: string;
  branch?: string;
  timestamp: string;
  data?: unknown;
}

export type NewEvent = Omit<Event, "id" | "timestamp">;

/** The type is the subject's kind and its last token: `cook.branch.app.main.pushed` → `branch.pushed`. */
export function typeOfSubject(subject: string): string {
  const tokens = subject.split(".");
  return `${tokens[1]}.${tokens[tokens.length - 1]}`;
}

export function newEvent(subject: string, repo: string, fields: { branch?: string; data?: unknown } = {}): NewEvent {
  return { subject, type: typeOfSubject(subject), repo, ...fields };
}
