import type { BranchDetail } from "../../../branches/read-branches.js";
import { isCookError } from "../../../core/errors.js";
import { usableEnvironment } from "../../../environments/exec-command.js";
import { readUncommittedWork, type UncommittedWork } from "../../../environments/uncommitted-work.js";
import type { Services } from "../../services.js";

/** The Uncommitted tab: the work when the checkout can be read, otherwise why not. */
export interface WorkPanel {
  work: UncommittedWork | undefined;
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
    return { work: await readUncommittedWork(services, detail, usable), reason: undefined };
  } catch (err) {
    // conflict: lost (its folder is gone); unavailable: git could not read the checkout.
    if (isCookError(err) && (err.code === "conflict" || err.code === "unavailable")) return { work: undefined, reason: `${err.message}.` };
    throw err;
  }
}
