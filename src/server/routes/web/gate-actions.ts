import type { Actor } from "../../../core/actor.js";
import type { Branch } from "../../../core/branch.js";
import type { ErrorCode } from "../../../core/errors.js";
import { findBranchById } from "../../../db/branch-store.js";
import { giveVerdict } from "../../../gates/approvals.js";
import { mergeBranch } from "../../../gates/merge.js";
import { startGateRun } from "../../../gates/start-run.js";
import type { Services } from "../../services.js";
import { branchHref } from "./branch-links.js";
import type { Form } from "./forms.js";

/**
 * How long a Merge button waits for the merge before answering. A merge whose target moved gates
 * its candidate first, which takes as long as the gates do; the page then shows it under way and
 * follows it, rather than holding the request open for minutes.
 */
const mergeWaitMs = 3000;

/** One button of the Gates section: does it through the same service as the API, and says where the page is now. */
export interface GateAction {
  /** The path under /branches/:id/. */
  path: string;
  /** Refusals shown on the page with the reason; anything else is an error page. */
  refusals: readonly ErrorCode[];
  act(services: Services, branch: Branch, form: Form, actor: Actor): Promise<string>;
}

const refusals: readonly ErrorCode[] = ["invalid", "conflict", "forbidden", "not_found", "too_large", "unavailable"];

/** The page of the branch as it is now: a merged branch's page is under its id. */
async function pageOf(services: Services, branch: Branch): Promise<string> {
  return branchHref((await findBranchById(services.db, branch.id)) ?? branch);
}

/** Waits for a merge for up to mergeWaitMs: its refusal is thrown, one still going on is left to go on. */
async function landOrLeave(services: Services, branch: Branch, landing: Promise<unknown>): Promise<void> {
  landing.catch((err: Error) => services.log.info({ branch: branch.id, reason: err.message }, "merge from the web page did not land"));
  const timer = new Promise<"going">((resolve) => setTimeout(resolve, mergeWaitMs, "going").unref());
  await Promise.race([landing, timer]);
}

export const gateActions: readonly GateAction[] = [
  {
    path: "gates",
    refusals,
    async act(services, branch, _form, actor) {
      await startGateRun(services, branch, { reason: "rerun" }, actor);
      return branchHref(branch);
    },
  },
  ...(["approve", "reject"] as const).map(
    (verdict): GateAction => ({
      path: verdict,
      refusals,
      async act(services, branch, form, actor) {
        await giveVerdict(services, branch, { verdict, comment: form.comment?.replace(/\r\n/g, "\n"), gate: form.gate || undefined }, actor);
        return branchHref(branch);
      },
    }),
  ),
  {
    path: "merge",
    refusals,
    async act(services, branch, form, actor) {
      await landOrLeave(services, branch, mergeBranch(services, branch, { strategy: form.strategy || undefined }, actor));
      return pageOf(services, branch);
    },
  },
  {
    // `auto=on` merges as soon as the gates pass on the head (now, when they have); `auto=off` stops waiting.
    path: "auto-merge",
    refusals,
    async act(services, branch, form, actor) {
      await landOrLeave(services, branch, mergeBranch(services, branch, { auto: form.auto === "on" ? true : form.auto === "off" ? false : form.auto }, actor));
      return pageOf(services, branch);
    },
  },
];
