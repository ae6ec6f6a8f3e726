/**
 * What is wrong with a path meant to name something inside a repository checkout, or undefined
 * when nothing is: it must be relative, already normalized (`a/b`, not `./a//b/`), free of `..`
 * segments and NUL bytes, and not inside any `.git` folder (compared case-insensitively, as
 * macOS and Windows file systems do), since files written there become git config and hooks.
 * The rule is lexical only; whoever touches the file system also checks where symlinks lead.
 */
export function relativePathProblem(path: string): string | undefined {
  if (path === "") return "it is empty";
  if (path.includes("\0")) return "it contains a NUL byte";
  if (path.startsWith("/")) return "it is absolute";
  const segments = path.split("/");
  if (segments.includes("..")) return "it has a '..' segment";
  const kept = segments.filter((segment) => segment !== "" && segment !== ".");
  if (kept.length === 0) return "it names the whole checkout";
  if (kept.length !== segments.length) return `it is not normalized (write '${kept.join("/")}')`;
  if (segments.some((segment) => segment.toLowerCase() === ".git")) return "it is a .git folder or inside one";
  return undefined;
}
