import { formatBytes } from "../core/format.js";
import { verdictLines } from "./review-verdict.js";

/** What the reviewer is asked when the gate says nothing (`prompt` in its [[gates]] entry). */
export const defaultReviewRequest = "Review this change for bugs, security problems, unclear code and missing tests.";

/** The change under review and what was asked about it. */
export interface ReviewSubject {
  repo: string;
  branch: string;
  /** The branch whose gates judge it, and its commit the diff is measured from (their merge base). */
  target: string;
  base: string;
  /** The commit reviewed: the checkout the reviewer works in. */
  head: string;
  /** The gate's `prompt`, or undefined for defaultReviewRequest. */
  request: string | undefined;
  /** `git diff <base> <head>`, whole or cut. */
  diff: string;
  /** The diff was cut: git's one-line summary of the whole of it ("3 files changed, …"). */
  cut: { shortstat: string } | undefined;
}

/**
 * The one prompt a reviewer gets (no system prompt: every CLI takes this the same way, and a
 * `command` agent sees only this): where it is and that it must change nothing, the diff in a
 * fence longer than any run of backticks inside it, what the gate asks, and the fixed format of
 * the answer, last, where a model heeds it most.
 */
export function reviewPrompt(subject: ReviewSubject): string {
  const short = (sha: string) => sha.slice(0, 12);
  const fence = "`".repeat(Math.max(3, ...[...subject.diff.matchAll(/`+/g)].map((m) => m[0].length + 1)));
  const diffNote = subject.cut
    ? `The diff below is cut after ${formatBytes(Buffer.byteLength(subject.diff))}; the whole change is ${subject.cut.shortstat}. Read the rest in the checkout (\`git diff ${short(subject.base)} HEAD\`, or open the files).`
    : subject.diff === ""
      ? "The diff is empty: the branch changes no file."
      : "";
  return [
    `You are reviewing a change to the repository '${subject.repo}': branch '${subject.branch}' at commit ${short(subject.head)}, against '${subject.target}' at ${short(subject.base)}.`,
    "Your working directory is a checkout of that commit. This is a review only: do not edit, create or delete any file, and do not commit or push; nothing you change is kept.",
    "",
    `The change (git diff ${short(subject.base)} ${short(subject.head)}):`,
    ...(diffNote ? [diffNote] : []),
    ...(subject.diff === "" ? [] : [`${fence}diff`, subject.diff.replace(/\n$/, ""), fence]),
    "",
    (subject.request ?? defaultReviewRequest).trim(),
    "",
    "Write your review comments first. Then end your reply with exactly one of these two lines as its very last line, with nothing after it:",
    verdictLines.approve,
    verdictLines["request-changes"],
  ].join("\n");
}
