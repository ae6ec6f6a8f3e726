import { CookError } from "../core/errors.js";
import { checkRepoName, isValidBranchName } from "../core/names.js";
import type { Actor } from "../core/actor.js";
import type { Db } from "../db/db.js";
import type { Event } from "./event.js";
import type { EventLog } from "./event-log.js";
import { newEvent } from "./event.js";
import { subjects } from "./subjects.js";

export interface CustomEventInput {
  repo: string;
  name: string;
  branch?: string;
  data?: unknown;
}

const maxDataBytes = 64 * 1024;

/**
 * Records an event announced from outside Cook (a CI system, a deploy script) as
 * `cook.custom.<repo>.<name>`. Only the custom namespace is open: nobody outside Cook can forge a
 * `branch.merged` or `gate.passed`.
 */
export async function announceCustomEvent(deps: { db: Db; events: EventLog }, input: CustomEventInput, actor: Actor): Promise<Event> {
  // Names go into subjects, log lines and pages: the same rules as real repos and branches keep
  // line breaks, control characters and megabyte names out of all of them.
  if (typeof input.repo !== "string" || input.repo.trim() === "") throw new CookError("invalid", "repo is required");
  checkRepoName(input.repo);
  if (typeof input.name !== "string" || !/^[a-z][a-z0-9_-]{0,63}$/.test(input.name)) {
    throw new CookError("invalid", "name must be 1-64 lowercase letters, digits, '-' or '_', starting with a letter");
  }
  if (input.branch !== undefined && (typeof input.branch !== "string" || !isValidBranchName(input.branch))) {
    throw new CookError("invalid", "branch must be a valid git branch name (at most 255 characters, no control characters, spaces or ~^:?*[\\)");
  }
  const dataSize = input.data === undefined ? 0 : Buffer.byteLength(JSON.stringify(input.data));
  if (dataSize > maxDataBytes) throw new CookError("invalid", `data is ${dataSize} bytes; the limit is ${maxDataBytes}`);

  // `by` is reserved: whoever announced the event is recorded, whatever the caller put there.
  const isObject = input.data !== null && typeof input.data === "object" && !Array.isArray(input.data);
  const data = isObject ? { ...(input.data as object), by: actor.name } : input.data === undefined ? { by: actor.name } : { value: input.data, by: actor.name };
  const fields: { branch?: string; data: unknown } = { data };
  if (input.branch) fields.branch = input.branch;
  const event = newEvent(subjects.custom(input.repo, input.name), input.repo, fields);
  return deps.db.transaction((tx) => deps.events.append(tx, event));
}
