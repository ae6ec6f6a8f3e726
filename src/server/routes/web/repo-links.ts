import { decodeGitText, encodeGitText } from "../../../git/git-text.js";
import type { Location } from "../../../forge/browse.js";

// encodeURIComponent's set: for names that are UTF-8 the links are exactly what it would build.
const keep = /[A-Za-z0-9\-_.!~*'()]/;

/** Percent-encodes each segment of a git-text path from its bytes, so any name has a URL. */
export function encodeUrlPath(path: string): string {
  return path
    .split("/")
    .map((segment) => {
      let out = "";
      for (const byte of encodeGitText(segment)) {
        const char = String.fromCharCode(byte);
        out += byte < 0x80 && keep.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
      }
      return out;
    })
    .join("/");
}

/**
 * The git-text path a raw (undecoded) URL path names: `%XX` is a byte, whatever bytes it makes.
 * decodeURIComponent would refuse `caf%E9.txt`, a name that is not UTF-8 but can be in a tree.
 */
export function decodeUrlPath(raw: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const hex = raw[i] === "%" ? raw.slice(i + 1, i + 3) : "";
    if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      // Node hands over the request line byte for byte as latin1; anything wider came as UTF-8.
      const code = raw.charCodeAt(i);
      if (code < 0x100) bytes.push(code);
      else bytes.push(...Buffer.from(raw[i]!, "utf8"));
    }
  }
  return decodeGitText(Buffer.from(bytes));
}

/** Links of one location: /repos/<repo>/<view>/<ref>/<path>. */
export function linkTo(view: "tree" | "blob" | "raw" | "commits", at: Pick<Location, "repo" | "ref">, path = ""): string {
  return `/repos/${encodeURIComponent(at.repo)}/${view}/${encodeUrlPath(at.ref)}${path ? `/${encodeUrlPath(path)}` : ""}`;
}
