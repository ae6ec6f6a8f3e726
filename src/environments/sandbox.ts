import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { CookError } from "../core/errors.js";

export interface SandboxSpec {
  /** Absolute; the only host folder the sandbox may write, bound read-write at the same path. */
  checkout: string;
  /** Absolute host folder bound read-write at the same path; `env.HOME` should name it. Private per environment. */
  home: string;
  /** Absolute host folder bound read-write at /tmp inside. Private per environment. */
  tmp: string;
  /** false: a network namespace of its own with only its own loopback; the host's loopback is unreachable too. */
  network: boolean;
  /**
   * Absolute host folders made invisible, each an empty read-only tmpfs: the data dir, the host
   * user's home, /root. Each must exist; files cannot be hidden this way.
   */
  hidden: string[];
  /** Absolute host paths re-exposed read-only even under a hidden folder (the repo objects that git alternates name). */
  readOnly: string[];
  /** Inside the checkout. */
  cwd: string;
  /**
   * The complete environment of the process; bwrap adds PWD (= cwd). It is not on bwrap's command
   * line (which every user of the host can read with ps, and COOK_TOKEN is in it): bwrap must be
   * spawned with exactly this as its environment, which it hands on to the command.
   */
  env: Record<string, string>;
  /**
   * The caller runs bwrap in a pty of its own (node-pty makes a new session with that pty as its
   * terminal). Without it the sandbox gets a new session and no terminal: it could otherwise push
   * keystrokes into the caller's terminal with TIOCSTI (CVE-2017-5226). With it the sandbox keeps
   * the pty, so a shell has job control; TIOCSTI then only reaches that pty, which is the sandbox's own.
   */
  terminal?: boolean;
}

/**
 * The uid and gid inside. Not 0, so nothing inside is root even in its own user namespace: no
 * capabilities anywhere, and exec cannot regain them. Files of the host user that runs Cook appear
 * as this uid; every other owner appears as nobody.
 */
const insideId = "1000";

const envName = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * argv for spawn: ["bwrap", ...args, "--", ...command], following bwrap(1) of bubblewrap 0.8.
 * Mount options apply in order and later ones shadow earlier ones, so the order below is the policy.
 * Spawn it with `env: spec.env` and nothing else: bwrap hands its own environment to the command,
 * and keeps it for its own process (pid 1 inside), readable there at /proc/1/environ.
 * bwrap exits with the command's code, or 128 + the signal that killed it.
 */
export function sandboxArgv(spec: SandboxSpec, command: readonly string[]): string[] {
  checkSpec(spec, command);
  const args = [
    "bwrap",
    // A user namespace even for root, with a non-root uid inside and no further user namespaces
    // (--disable-userns, which needs --unshare-user), so nothing inside can mount, chroot, or
    // build a namespace in which it could. Capabilities are dropped by bwrap anyway; said twice.
    "--unshare-user", "--uid", insideId, "--gid", insideId, "--disable-userns", "--cap-drop", "ALL",
    "--unshare-pid", "--unshare-ipc", "--unshare-uts",
    ...(spec.network ? [] : ["--unshare-net"]),
    "--die-with-parent",
    ...(spec.terminal ? [] : ["--new-session"]),
    "--ro-bind", "/", "/",
    "--dev", "/dev",
    "--proc", "/proc",
    // bwrap covers /proc/sys only when it finds the folder writable, and the folder never is; its
    // files are, to host root, even in a user namespace (sysctl checks the uid, not capabilities):
    // core_pattern would run a program as root on the host.
    "--ro-bind", "/proc/sys", "/proc/sys",
    // Host daemons' unix sockets (PostgreSQL, MySQL, D-Bus, Docker) live here. Connecting to a
    // socket needs no write access to its file system, so read-only is not enough, and
    // --unshare-net does not cover them.
    "--tmpfs", "/run",
    // Where /etc/resolv.conf links into /run (systemd-resolved), name lookups still need it.
    ...(spec.network ? resolvConfLinks.flatMap((path) => ["--ro-bind-try", path, path]) : []),
    // Before the rest, so a checkout or hidden folder under the host's /tmp is still placed inside.
    "--bind", spec.tmp, "/tmp",
    ...spec.hidden.flatMap((path) => ["--tmpfs", path]),
    ...spec.readOnly.flatMap((path) => ["--ro-bind", path, path]),
    "--bind", spec.checkout, spec.checkout,
    "--bind", spec.home, spec.home,
    // Last, once the binds above have made their mount points in them: a write to a hidden
    // folder fails instead of landing in memory the caller never sees.
    ...["/run", ...spec.hidden].flatMap((path) => ["--remount-ro", path]),
    "--chdir", spec.cwd,
    "--",
    ...command,
  ];
  return args;
}

const resolvConfLinks = ["/run/systemd/resolve/stub-resolv.conf", "/run/systemd/resolve/resolv.conf"];

function checkSpec(spec: SandboxSpec, command: readonly string[]): void {
  const paths: [string, string][] = [
    ["checkout", spec.checkout], ["home", spec.home], ["tmp", spec.tmp], ["cwd", spec.cwd],
    ...spec.hidden.map((path): [string, string] => ["hidden", path]),
    ...spec.readOnly.map((path): [string, string] => ["readOnly", path]),
  ];
  for (const [what, path] of paths) {
    if (!path.startsWith("/") || posix.normalize(path) !== path || path === "/" || path.endsWith("/")) {
      throw new CookError("invalid", `sandbox ${what} '${path}' is not an absolute, normalized path below /`);
    }
  }
  if (spec.cwd !== spec.checkout && !spec.cwd.startsWith(`${spec.checkout}/`)) {
    throw new CookError("invalid", `sandbox cwd '${spec.cwd}' is outside the checkout '${spec.checkout}'`);
  }
  for (const name of Object.keys(spec.env)) {
    if (!envName.test(name)) throw new CookError("invalid", `environment variable name '${name}' is not allowed`);
  }
  if (command.length === 0) throw new CookError("invalid", "a sandbox needs a command to run");
}

let probe: Promise<{ ok: true } | { ok: false; reason: string }> | undefined;

/** Whether bwrap exists and can make a sandbox here, found by making one once (cached); with a reason when not. */
export function checkSandbox(): Promise<{ ok: true } | { ok: false; reason: string }> {
  probe ??= runProbe();
  return probe;
}

async function runProbe(): Promise<{ ok: true } | { ok: false; reason: string }> {
  const dir = await mkdtemp(join(tmpdir(), "cook-sandbox-probe-"));
  try {
    const [checkout, home, tmp] = [join(dir, "checkout"), join(dir, "home"), join(dir, "tmp")];
    await Promise.all([checkout, home, tmp].map((path) => mkdir(path)));
    const spec = { checkout, home, tmp, network: false, hidden: [], readOnly: [], cwd: checkout, env: { PATH: "/usr/bin:/bin" } };
    const [file, ...args] = sandboxArgv(spec, ["true"]);
    return await new Promise((resolve) => {
      execFile(file!, args, { timeout: 10_000 }, (err, _stdout, stderr) => {
        if (!err) return resolve({ ok: true });
        const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
        const said = stderr.trim().split("\n")[0];
        resolve({ ok: false, reason: missing ? "bwrap is not installed (Debian package bubblewrap)" : `bwrap cannot make a sandbox here: ${said || err.message}` });
      });
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
