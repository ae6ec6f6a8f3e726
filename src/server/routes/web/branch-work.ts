import type { BranchDetail } from "../../../branches/read-branches.js";
import { isCookError } from "../../../core/errors.js";
import { usableEnvironment } from "../../../environments/exec-command.js";
import { readUncommittedWork, uncommittedLimits, type UncommittedWork } from "../../../environments/uncommitted-work.js";
import type { RenderedDiff, RenderedFile } from "../../render/diff-rows.js";
import type { Services } from "../../services.js";

/** Uncommitted work as the page shows it: the diffs parsed and made into rows in a render worker. */
export interface RenderedWork extends Omit<UncommittedWork, "staged" | "unstaged" | "untracked"> {
  staged: RenderedDiff;
  unstaged: RenderedDiff;
  untracked: RenderedFile[];
  /** Why no untracked file is shown (rendering them gave up). */
  untrackedNote: string | undefined;
}

/** The Uncommitted tab: the work when the checkout can be read, otherwise why not. */
export interface WorkPanel {
  work: RenderedWork | undefined;
  /** Why there is nothing to show: no environment, being set up, torn down, lost, git failed. */
  reason: string | undefined;
}

/**
 * Reads the checkout only while the environment is live and its folder is there: a lost
 * environment (marked so by usableEnvironment when its folder vanished) is reported, not a crash.
 */
export async function readWorkPanel(services: Services, detail: BranchDetail): Promise<WorkPanel> {
  const environment = detail.environment;
  if (!environment) return { work: undefined, reason: "This branch has no environment, so there is no checkout to look into." };
  if (environment.state === "torn_down") return { work: undefined, reason: "The environment was torn down; its uncommitted work went with it." };
  if (environment.state === "creating") return { work: undefined, reason: "The environment is still being set up." };
  try {
    const usable = await usableEnvironment(services, detail);
    const work = await readUncommittedWork(services, detail, usable);
    const [staged, unstaged, untracked] = await Promise.all([
      services.render.diff(work.staged),
      services.render.diff(work.unstaged),
      services.render.diff({ added: work.untracked, maxRows: uncommittedLimits.maxUntrackedLines }),
    ]);
    return { work: { ...work, staged, unstaged, untracked: untracked.files, untrackedNote: untracked.note }, reason: undefined };
  } catch (err) {
    // conflict: lost (its folder is gone); unavailable: git could not read the checkout.
    if (isCookError(err) && (err.code === "conflict" || err.code === "unavailable")) return { work: undefined, reason: `${err.message}.` };
    throw err;
  }
}
