import type { Actor } from "../core/actor.js";
import { parseScope } from "../core/actor.js";
import { CookError } from "../core/errors.js";
import type { RefUpdate } from "./ref-policy.js";

/** What a repo's hook tells the server: the push as receive-pack passed it to the hook. */
export interface HookCall {
  repo: string;
  pusher: Actor;
  updates: RefUpdate[];
  pushOptions: string[];
}

const objectId = /^([0-9a-f]{40}|[0-9a-f]{64})$/;

function parsePusher(json: string | undefined): Actor {
  let pusher: Partial<Actor>;
  try {
    pusher = JSON.parse(json ?? "") as Partial<Actor>;
  } catch {
    throw new CookError("invalid", "the hook's pusher is malformed");
  }
  if (typeof pusher?.name !== "string" || !parseScope(String(pusher.scope))) throw new CookError("invalid", "the hook's pusher is malformed");
  return pusher as Actor;
}

/**
 * Parses the body hooks/pre-receive sends: `repo <name>`, `pusher <actor JSON>` and one
 * `push-option <text>` per option, a blank line, then git's `<old> <new> <ref>` lines (githooks(5)).
 * The hook is trusted (it had the secret); its input is still checked. Throws CookError("invalid").
 */
export function parseHookCall(text: string): HookCall {
  const blank = text.indexOf("\n\n");
  if (blank < 0) throw new CookError("invalid", "a hook call needs a header, a blank line and the ref updates");
  let repo: string | undefined;
  let pusherJson: string | undefined;
  const pushOptions: string[] = [];
  for (const line of text.slice(0, blank).split("\n")) {
    const space = line.indexOf(" ");
    const key = space < 0 ? line : line.slice(0, space);
    const value = space < 0 ? "" : line.slice(space + 1);
    if (key === "repo") repo = value;
    else if (key === "pusher") pusherJson = value;
    else if (key === "push-option") pushOptions.push(value);
  }
  if (!repo) throw new CookError("invalid", "a hook call needs the repo");
  const updates = text
    .slice(blank + 2)
    .split("\n")
    .filter(Boolean)
    .map((line): RefUpdate => {
      const [oldSha, newSha, ref, extra] = line.split(" ");
      if (!oldSha || !newSha || !ref || extra !== undefined || !objectId.test(oldSha) || !objectId.test(newSha)) {
        throw new CookError("invalid", "malformed ref update");
      }
      return { oldSha, newSha, ref };
    });
  return { repo, pusher: parsePusher(pusherJson), updates, pushOptions };
}
