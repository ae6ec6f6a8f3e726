import ipaddr from "ipaddr.js";
import { CookError } from "./errors.js";

/**
 * `[forge] import_from`: "public" lets admins import from anywhere and users only from http(s)://
 * and git:// URLs whose host has public addresses; "any" lets every user import from anywhere
 * (a factory where users are trusted with the server's disk and network); "none" turns import off.
 */
export type ImportFrom = "public" | "any" | "none";
export const importFromValues: readonly ImportFrom[] = ["public", "any", "none"];

export type NetworkScheme = "http" | "https" | "git";

/** Where `git clone` would read from, as git itself would interpret the text. */
export type ImportSource =
  | { kind: "local"; text: string; display: string }
  | { kind: "ssh"; text: string; display: string }
  | {
      kind: "network";
      scheme: NetworkScheme;
      url: URL;
      /** Host name or address without IPv6 brackets. */
      host: string;
      port: number;
      display: string;
      /** The credentials in the URL (userinfo, credential-like query parameters), to scrub from anything shown (git's own messages included). */
      secrets: string[];
    };

const defaultPorts: Record<NetworkScheme, number> = { http: 80, https: 443, git: 9418 };
const sshSchemes = new Set(["ssh", "git+ssh", "ssh+git"]);
const schemePattern = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;
// Host names Cook hands to curl and git: plain labels, no trailing dot, no percent escapes, so
// that every later reader (WHATWG URL, curl, getaddrinfo, the pin) sees the same name.
const hostNamePattern = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/i;

/**
 * Query parameters that carry credentials, whatever the host calls them: `access_token` (OAuth),
 * `private_token` (GitLab), `token`, `api_key`, `client_secret`, `password`, `auth`,
 * `X-Amz-Signature`, `sig`… A name that merely looks like one is dropped too: a source shown
 * without a harmless parameter loses nothing, one shown with a token leaks it.
 */
const credentialParameter = /token|key|secret|passw|pwd|auth|credential|signature|^sig$/i;

function decodedOrRaw(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, " "));
  } catch {
    return text;
  }
}

/** The `name=value` pairs of a query (without its `?`) that are not credentials, joined again as written. */
function keptPairs(query: string): string {
  return query
    .split("&")
    .filter((pair) => !credentialParameter.test(decodedOrRaw(pair.split("=", 1)[0]!)))
    .join("&");
}

/** Drops credential-like parameters from every query in a text (a URL, or a message quoting one). */
function withoutQueryCredentials(text: string): string {
  return text.replace(/\?([^\s'"#?]*)/g, (_match, query: string) => {
    const kept = keptPairs(query);
    return kept === "" && query !== "" ? "" : `?${kept}`;
  });
}

/**
 * `scheme://user:secret@host/r.git?access_token=…` → `scheme://host/r.git`, for text that is shown
 * before it parses (or that git will not parse as a URL, like a file:// path).
 */
export function withoutCredentials(text: string): string {
  return withoutQueryCredentials(text.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#]*@/, "$1"));
}

function refuse(text: string, why: string): never {
  throw new CookError("invalid", `'${withoutCredentials(text)}' ${why}`);
}

function parseUrl(text: string): URL {
  try {
    return new URL(text);
  } catch {
    return refuse(text, "is not a valid URL");
  }
}

/** The URL as it may be stored, published or shown: no userinfo, no credential-like query parameter. */
function displayOf(url: URL): string {
  const shown = new URL(url.href);
  shown.username = "";
  shown.password = "";
  shown.search = keptPairs(shown.search.slice(1));
  return shown.href;
}

function secretsOf(url: URL): string[] {
  const queryValues = url.search
    .slice(1)
    .split("&")
    .filter((pair) => credentialParameter.test(decodedOrRaw(pair.split("=", 1)[0]!)))
    .map((pair) => pair.slice(pair.indexOf("=") + 1));
  const raw = [url.username, url.password, ...queryValues].filter(Boolean);
  return [...new Set([...raw, ...raw.map(decodedOrRaw)])];
}

function parseNetworkUrl(text: string, scheme: NetworkScheme): ImportSource {
  const url = parseUrl(text);
  const bracketed = url.hostname.startsWith("[");
  const host = bracketed ? url.hostname.slice(1, -1) : url.hostname;
  if (!bracketed && !hostNamePattern.test(host)) refuse(text, "does not name a host Cook can import from");
  return { kind: "network", scheme, url, host, port: url.port ? Number(url.port) : defaultPorts[scheme], display: displayOf(url), secrets: secretsOf(url) };
}

/**
 * Sorts a `git clone` source the way git does (`transport.c`, `url_is_local_not_ssh`): a URL by
 * its scheme, `[user@]host:path` (a colon before any slash) as ssh, anything else a local path.
 * Throws invalid for a transport-helper address (`ext::…`), an option-like text, or a scheme
 * Cook does not import from.
 */
export function parseImportSource(input: string): ImportSource {
  const text = input.trim();
  if (!text || text.startsWith("-")) refuse(input, "is not a git URL or path to clone from");
  // A control character has no place in a URL or a sane path, and would reach git's messages raw.
  if (/[\u0000-\u001f\u007f]/.test(text)) refuse(JSON.stringify(text).slice(1, -1), "is not a git URL or path to clone from");
  // `<transport>::<address>` runs git-remote-<transport>: a program, not a repository.
  if (/^[A-Za-z0-9][A-Za-z0-9+.-]*::/.test(text)) refuse(text, "uses a transport helper (<transport>::<address>), which Cook does not run");
  const scheme = schemePattern.exec(text)?.[1]?.toLowerCase();
  if (scheme === "file") return { kind: "local", text, display: withoutCredentials(text) };
  if (scheme && sshSchemes.has(scheme)) return { kind: "ssh", text, display: displayOf(parseUrl(text)) };
  if (scheme === "http" || scheme === "https" || scheme === "git") return parseNetworkUrl(text, scheme);
  if (scheme) refuse(text, `uses '${scheme}://': Cook imports from http(s)://, git://, ssh:// and file:// URLs and local paths`);
  const colon = text.indexOf(":");
  const slash = text.indexOf("/");
  if (colon > 0 && (slash < 0 || colon < slash)) return { kind: "ssh", text, display: text.slice(0, colon).replace(/^.*@/, "") + text.slice(colon) };
  return { kind: "local", text, display: text };
}

export type AddressClass = "public" | "loopback" | "private" | "link-local" | "unspecified" | "special";

/**
 * What kind of network an IP address (v4 or v6, as getaddrinfo returns it) leads to. Only
 * "public" is reachable by a user's import. IPv4-mapped (`::ffff:127.0.0.1`) and IPv4-compatible
 * (`::127.0.0.1`) IPv6 addresses are judged by the IPv4 address inside; NAT64, 6to4, Teredo,
 * multicast, documentation and reserved ranges are "special".
 */
export function classifyAddress(address: string): AddressClass {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(address);
  } catch {
    return "special";
  }
  if (parsed.kind() === "ipv6") {
    const v6 = parsed as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) parsed = v6.toIPv4Address();
    else if (v6.parts.slice(0, 6).every((part) => part === 0) && (v6.parts[6] !== 0 || v6.parts[7]! > 1)) {
      // IPv4-compatible (::a.b.c.d, deprecated by RFC 4291): some stacks still route it as IPv4.
      parsed = ipaddr.fromByteArray(v6.toByteArray().slice(12));
    }
  }
  // A string: the library knows more ranges than its type declarations list.
  const range: string = parsed.range();
  switch (range) {
    case "unicast":
      return "public";
    case "loopback":
      return "loopback";
    case "private":
    case "uniqueLocal":
    case "carrierGradeNat":
    case "deprecatedSiteLocal":
      return "private";
    case "linkLocal":
      return "link-local";
    case "unspecified":
      return "unspecified";
    default:
      return "special";
  }
}

/**
 * Replaces each credential in git's (or anyone's) message; userinfo and credential-like query
 * parameters in URLs go first and whole.
 */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let scrubbed = withoutQueryCredentials(text.replace(/([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/\s'"@]*@/g, "$1"));
  // Short strings would blot out ordinary words; a credential worth the name is longer.
  for (const secret of secrets) if (secret.length >= 6) scrubbed = scrubbed.split(secret).join("***");
  return scrubbed;
}
