import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import type { Actor } from "../core/actor.js";
import { may } from "../core/authorization.js";
import { CookError } from "../core/errors.js";
import { classifyAddress, parseImportSource, scrubSecrets, type ImportFrom } from "../core/import-source.js";

/** Every address a host name resolves to (IPv4 and IPv6), as git's own getaddrinfo would see them. */
export type ResolveHost = (host: string) => Promise<string[]>;

export async function resolveHost(host: string): Promise<string[]> {
  return (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);
}

/** How to run one import's `git clone`, decided before git touches the disk or the network. */
export interface ImportPlan {
  /** What git clones: credentials kept (the clone may need them); a checked git:// host replaced by its address. */
  cloneSource: string;
  /** `-c` options for the clone: protocol allowlist, pinned addresses, redirect policy. */
  gitOptions: string[];
  /** The source as it may be stored, logged, published or shown: never with credentials. */
  display: string;
  /** The message for a clone that failed, given git's stderr. */
  describeFailure(stderr: string): string;
}

const allProtocols = ["file", "http", "https", "git", "ssh"];
const networkProtocols = ["http", "https", "git"];

// An allowlist: transports that run commands (ext::, fd::) or are unknown are refused.
function protocolOptions(protocols: string[]): string[] {
  return ["protocol.allow=never", ...protocols.map((p) => `protocol.${p}.allow=always`)];
}

/**
 * What a non-admin is told of every source it cannot have: a local path, ssh, an internal host, a
 * host that does not resolve, a port nobody listens on, a URL that is no git repository. One
 * status and one message (the source aside, as the user wrote it), so that trying sources cannot
 * map what exists on the server's disk or network. Only what is wrong with the text itself (no
 * URL, a transport helper) is said, because it is decided before anything is looked up.
 */
function unavailable(display: string, restricted: boolean): string {
  return `cannot import from '${display}': it is not a git repository this server can import for you${restricted ? " (users may import only from http(s):// and git:// URLs of public hosts)" : ""}`;
}

/**
 * Checks an import source against `[forge] import_from` and the caller's scope, and says how to
 * clone it. Throws forbidden when import is off; invalid for text git would not clone from, and
 * for any source a non-admin may not have or that cannot be reached (one message for all, see
 * `unavailable`). An admin is told why: which host does not resolve, git's own error.
 */
export async function planImport(input: string, caller: { actor: Actor; importFrom: ImportFrom }, resolve: ResolveHost = resolveHost): Promise<ImportPlan> {
  if (caller.importFrom === "none") throw new CookError("forbidden", 'importing repos is turned off on this server ([forge] import_from = "none")');
  const source = parseImportSource(input);
  const admin = may(caller.actor, "administer", "factory");
  const restricted = caller.importFrom === "public" && !admin;
  const secrets = source.kind === "network" ? source.secrets : [];
  const refusal = new CookError("invalid", unavailable(source.display, restricted));
  // Only an admin sees git's own words: for anyone else they would tell what the server can reach.
  const describeFailure = (stderr: string) =>
    admin ? `cannot import from '${source.display}': ${scrubSecrets(stderr.trim().split("\n").pop() ?? "", secrets)}` : refusal.message;

  if (source.kind !== "network") {
    if (restricted) throw refusal;
    return { cloneSource: source.text, gitOptions: protocolOptions(allProtocols), display: source.display, describeFailure };
  }

  let addresses: string[];
  try {
    addresses = isIP(source.host) ? [source.host] : await resolve(source.host);
  } catch {
    addresses = [];
  }
  if (addresses.length === 0) {
    if (!admin) throw refusal;
    throw new CookError("invalid", `cannot import from '${source.display}': host '${source.host}' does not resolve`);
  }
  if (restricted && addresses.some((address) => classifyAddress(address) !== "public")) throw refusal;

  const gitOptions = protocolOptions(restricted ? networkProtocols : allProtocols);
  let cloneSource = source.url.href;
  if (!isIP(source.host)) {
    if (source.scheme === "git") {
      // git:// connects with git's own resolver, which no option pins: clone from the checked address.
      // (git:// has no credentials, and a daemon serves by path.)
      if (restricted) cloneSource = `git://${bracketed(addresses[0]!)}:${source.port}${source.url.pathname}${source.url.search}`;
    } else {
      // curl connects to exactly these addresses, so a name that resolves differently a moment
      // later (DNS rebinding) cannot turn a checked public host into an internal one.
      gitOptions.push(`http.curloptResolve=${source.host}:${source.port}:${addresses.map(bracketed).join(",")}`);
    }
  }
  if (restricted) {
    // A checked public URL must not redirect into the server's network; git's default, "initial",
    // follows the first request's redirects.
    gitOptions.push("http.followRedirects=false");
  }
  return { cloneSource, gitOptions, display: source.display, describeFailure };
}

function bracketed(address: string): string {
  return address.includes(":") ? `[${address}]` : address;
}

/** The arguments of `git clone --bare` for a plan; `-c` options come before the command. */
export function cloneArgs(plan: ImportPlan, dir: string): string[] {
  return [...plan.gitOptions.flatMap((option) => ["-c", option]), "clone", "--bare", "--quiet", "--", plan.cloneSource, dir];
}
