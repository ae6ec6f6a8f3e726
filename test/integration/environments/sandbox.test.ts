import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import pty from "node-pty";
import { checkSandbox, sandboxArgv, type SandboxSpec } from "../../../src/environments/sandbox.js";
import { gitOk, makeWorkRepo } from "../../helpers/git.js";
import { eventually } from "../../helpers/wait.js";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs argv, by default with the whole environment of this test process, host secret included. */
function run(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** `script` in bash inside the sandbox, with bwrap spawned as it must be: with the spec's environment. */
const inside = (spec: SandboxSpec, script: string) => run(sandboxArgv(spec, ["bash", "-c", script]), spec.env);
/** The same script on the host: the control that shows a refusal inside is the sandbox's doing. */
const outside = (script: string) => run(["bash", "-c", script]);

const isRoot = process.getuid?.() === 0;
const refused = /Read-only file system|Permission denied|No such file or directory|Operation not permitted|must be superuser|No space left on device/;

/** Everything printed by a pty until `pattern` shows up in it. */
function ptyOutput(term: pty.IPty): { text: () => string; waitFor: (pattern: RegExp, what: string) => Promise<void> } {
  let text = "";
  term.onData((data) => (text += data));
  return { text: () => text, waitFor: (pattern, what) => eventually(() => pattern.test(text) || undefined, 10_000, `${what}; the terminal shows:\n${text}`).then(() => {}) };
}

/** Host processes whose command line is exactly `args`. */
function hostProcesses(args: string[]): string[] {
  const wanted = `${args.join("\0")}\0`;
  return readdirSync("/proc").filter((pid) => {
    if (!/^\d+$/.test(pid)) return false;
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8") === wanted;
    } catch {
      return false; // it ended while we looked
    }
  });
}

describe("sandboxArgv", () => {
  // The layout of a server's data dir, outside /tmp: the sandbox has a /tmp of its own, which
  // would hide a layout there whatever the hidden list says, and the walls would go untested.
  const root = realpathSync(mkdtempSync(join(existsSync("/var/tmp") ? "/var/tmp" : tmpdir(), "cook-sandbox-")));
  const data = join(root, "data");
  const objects = join(data, "repos", "app.git", "objects");
  const checkout = join(data, "envs", "app", "env_A");
  const otherEnv = join(data, "envs", "app", "env_B");
  const hostHome = join(root, "host-home");
  const hookSecret = `hook-secret-${randomBytes(8).toString("hex")}`;
  const hostSecret = `host-secret-${randomBytes(8).toString("hex")}`;
  const spec: SandboxSpec = {
    checkout,
    home: join(data, "homes", "env_A"),
    tmp: join(data, "tmp", "env_A"),
    network: false,
    hidden: [data, hostHome, "/root"],
    readOnly: [objects],
    cwd: checkout,
    env: {
      PATH: "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
      HOME: join(data, "homes", "env_A"),
      LANG: "C.UTF-8",
      COOK_BRANCH: "app/fix-typo",
      COOK_TOKEN: "cook_env_notonthecommandline",
      GIT_AUTHOR_NAME: "Agent",
      GIT_AUTHOR_EMAIL: "agent@example.com",
      GIT_COMMITTER_NAME: "Agent",
      GIT_COMMITTER_EMAIL: "agent@example.com",
    },
  };

  before(async () => {
    process.env.COOK_SANDBOX_TEST_SECRET = hostSecret;
    mkdirSync(join(data, "db"), { recursive: true });
    writeFileSync(join(data, "db", "pg_hba.conf"), "local all all trust\n");
    writeFileSync(join(data, "hook-secret"), `${hookSecret}\n`);
    for (const dir of [spec.home, spec.tmp, join(hostHome, ".ssh")]) mkdirSync(dir, { recursive: true });
    writeFileSync(join(hostHome, ".ssh", "id_rsa"), "-----BEGIN OPENSSH PRIVATE KEY-----\n");
    const work = await makeWorkRepo([{ "README.md": "app\n" }]);
    await gitOk(["clone", "--quiet", "--bare", work, join(data, "repos", "app.git")]);
    rmSync(work, { recursive: true, force: true });
    for (const env of [checkout, otherEnv]) await gitOk(["clone", "--quiet", "--shared", join(data, "repos", "app.git"), env]);
    writeFileSync(join(otherEnv, "notes.txt"), "env B's work\n");
  });

  after(() => {
    delete process.env.COOK_SANDBOX_TEST_SECRET;
    rmSync(root, { recursive: true, force: true });
  });

  it("builds bwrap's argv: the system read-only, then /tmp, hidden, read-only and the environment's own folders", () => {
    const sample: SandboxSpec = {
      checkout: "/srv/cook/envs/app/env_A",
      home: "/srv/cook/homes/env_A",
      tmp: "/srv/cook/tmp/env_A",
      network: false,
      hidden: ["/srv/cook", "/root"],
      readOnly: ["/srv/cook/repos/app.git/objects"],
      cwd: "/srv/cook/envs/app/env_A/src",
      env: { PATH: "/usr/bin:/bin", HOME: "/srv/cook/homes/env_A" },
    };
    assert.deepEqual(sandboxArgv(sample, ["git", "status"]), [
      "bwrap",
      "--unshare-user", "--uid", "1000", "--gid", "1000", "--disable-userns", "--cap-drop", "ALL",
      "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-net",
      "--die-with-parent", "--new-session",
      "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--ro-bind", "/proc/sys", "/proc/sys",
      "--tmpfs", "/run",
      "--bind", "/srv/cook/tmp/env_A", "/tmp",
      "--tmpfs", "/srv/cook", "--tmpfs", "/root",
      "--ro-bind", "/srv/cook/repos/app.git/objects", "/srv/cook/repos/app.git/objects",
      "--bind", "/srv/cook/envs/app/env_A", "/srv/cook/envs/app/env_A",
      "--bind", "/srv/cook/homes/env_A", "/srv/cook/homes/env_A",
      "--remount-ro", "/run", "--remount-ro", "/srv/cook", "--remount-ro", "/root",
      "--chdir", "/srv/cook/envs/app/env_A/src",
            "--", "git", "status",
    ]);
    const networked = sandboxArgv({ ...sample, network: true, terminal: true }, ["bash"]);
    assert.ok(!networked.includes("--unshare-net") && !networked.includes("--new-session"));
    assert.deepEqual(networked.slice(networked.indexOf("/run") + 1, networked.indexOf("/tmp") - 2), [
      "--ro-bind-try", "/run/systemd/resolve/stub-resolv.conf", "/run/systemd/resolve/stub-resolv.conf",
      "--ro-bind-try", "/run/systemd/resolve/resolv.conf", "/run/systemd/resolve/resolv.conf",
    ]);
  });

  it("refuses relative paths, a cwd outside the checkout, odd variable names and an empty command", () => {
    const invalid = { name: "CookError", code: "invalid" };
    assert.throws(() => sandboxArgv({ ...spec, checkout: "envs/app/env_A" }, ["true"]), invalid);
    assert.throws(() => sandboxArgv({ ...spec, hidden: [`${data}/../data`] }, ["true"]), invalid);
    assert.throws(() => sandboxArgv({ ...spec, readOnly: ["/"] }, ["true"]), invalid);
    assert.throws(() => sandboxArgv({ ...spec, cwd: otherEnv }, ["true"]), invalid);
    assert.throws(() => sandboxArgv({ ...spec, cwd: `${checkout}-other` }, ["true"]), invalid);
    assert.throws(() => sandboxArgv({ ...spec, env: { "A=B": "c" } }, ["true"]), invalid);
    assert.throws(() => sandboxArgv(spec, []), invalid);
  });

  it("finds that bwrap can make a sandbox here", async () => {
    assert.deepEqual(await checkSandbox(), { ok: true });
  });

  it("runs the command in its cwd with exactly the environment given, plus the PWD bwrap sets", async () => {
    const cwd = join(checkout, "sub");
    mkdirSync(cwd, { recursive: true });
    const argv = sandboxArgv({ ...spec, cwd }, ["/usr/bin/env", "-0"]);
    assert.ok(!argv.join("\0").includes("cook_env_notonthecommandline"), "no variable is on bwrap's command line, where ps shows it");
    const result = await run(argv, spec.env);
    assert.equal(result.code, 0, result.stderr);
    const seen = Object.fromEntries(result.stdout.split("\0").filter(Boolean).map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]));
    assert.deepEqual(seen, { ...spec.env, PWD: cwd });

    const control = await run(["/usr/bin/env", "-0"]);
    assert.ok(control.stdout.includes(hostSecret), "the host secret is in the environment bwrap was given");
  });

  it("shows no host process in /proc, nor the host environment when bwrap is spawned with the spec's", async () => {
    const script = `grep -l -a ${hostSecret} /proc/[0-9]*/environ; ls -d /proc/[0-9]*`;
    const result = await run(sandboxArgv(spec, ["bash", "-c", script]), spec.env);
    const pids = result.stdout.split("\n").filter(Boolean).map((path) => Number(path.slice("/proc/".length)));
    // bwrap's init, bash and its commands: a pid namespace of their own, numbered from 1.
    assert.ok(pids.length > 0 && pids.every((pid) => pid < 10), result.stdout);

    // bwrap's init (pid 1 inside) keeps the environment bwrap was started with, readable at
    // /proc/1/environ and hands it to the command: the caller must spawn bwrap with
    // the spec's env, never its own.
    const leaky = await run(sandboxArgv(spec, ["bash", "-c", script]), process.env);
    assert.match(leaky.stdout, /^\/proc\/1\/environ$/m);
  });

  it("passes exit codes through, and a death by signal as 128 + its number", async () => {
    assert.equal((await inside(spec, "exit 7")).code, 7);
    assert.equal((await inside(spec, "kill -TERM $$")).code, 128 + 15);
  });

  it("streams stdout and stderr while the command runs, and feeds it stdin", async () => {
    const [file, ...args] = sandboxArgv(spec, ["bash", "-c", "echo ready; read line; echo \"got $line\" >&2; exit 3"]);
    const child = spawn(file!, args, { env: spec.env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const closed = new Promise<number | null>((resolve) => child.on("close", resolve));
    await eventually(() => stdout === "ready\n" || undefined, 10_000, "the first line, before the command ends");
    assert.equal(child.exitCode, null);
    child.stdin.end("go\n");
    assert.equal(await closed, 3);
    assert.equal(stderr, "got go\n");
  });

  it("lets the command write and read its checkout, $HOME and /tmp", async () => {
    const result = await inside(spec, 'echo c > made.txt && mkdir -p "$HOME/.cache" && echo h > "$HOME/.cache/h" && echo t > /tmp/t && cat made.txt "$HOME/.cache/h" /tmp/t');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "c\nh\nt\n");
    assert.equal(readFileSync(join(checkout, "made.txt"), "utf8"), "c\n");
    assert.equal(readFileSync(join(spec.home, ".cache", "h"), "utf8"), "h\n");
    assert.equal(readFileSync(join(spec.tmp, "t"), "utf8"), "t\n");
  });

  it("places a checkout that lives under the host's /tmp at its own path, beside its private /tmp", async () => {
    const underTmp = realpathSync(mkdtempSync(join(tmpdir(), "cook-sandbox-tmp-")));
    try {
      const [co, home, tmp] = ["co", "home", "tmp"].map((name) => join(underTmp, name)) as [string, string, string];
      for (const dir of [co, home, tmp]) mkdirSync(dir);
      const result = await inside({ ...spec, checkout: co, cwd: co, home, tmp, hidden: [underTmp], readOnly: [] }, "echo c > c && echo t > /tmp/t");
      assert.equal(result.code, 0, result.stderr);
      assert.equal(readFileSync(join(co, "c"), "utf8"), "c\n");
      assert.equal(readFileSync(join(tmp, "t"), "utf8"), "t\n");
    } finally {
      rmSync(underTmp, { recursive: true, force: true });
    }
  });

  it("refuses every write outside them: /, /usr, /etc, /var/tmp, the data dir, another environment, the repo objects", async () => {
    const targets = ["/", "/usr", "/etc", "/var/tmp", data, join(data, "envs"), otherEnv, objects, "/run", "/root"];
    const probe = `.cook-sandbox-probe-${randomBytes(4).toString("hex")}`;
    for (const dir of targets) {
      const script = `echo x > ${join(dir, probe)} && rm ${join(dir, probe)}`;
      const result = await inside(spec, script);
      assert.notEqual(result.code, 0, `wrote to ${dir}`);
      assert.match(result.stderr, refused, dir);
      assert.ok(!existsSync(join(dir, probe)));
      // Outside the sandbox the same write succeeds (as root everywhere; otherwise where this user may).
      if (isRoot || dir.startsWith(root)) assert.equal((await outside(script)).code, 0, `the control could not write to ${dir}`);
    }
    const overwrite = await inside(spec, `echo stolen > ${join(data, "hook-secret")}; echo x > ${join(otherEnv, "README.md")}`);
    assert.notEqual(overwrite.code, 0);
    assert.equal(readFileSync(join(data, "hook-secret"), "utf8"), `${hookSecret}\n`);
    assert.equal(readFileSync(join(otherEnv, "README.md"), "utf8"), "app\n");
  });

  it("hides the hook secret, the database, other environments, the host user's keys and /root, also through /proc/*/root", async () => {
    const reads = [
      `cat ${join(data, "hook-secret")}`,
      `cat /proc/1/root${join(data, "hook-secret")}`,
      `cat /proc/self/root${join(data, "hook-secret")}`,
      `ls ${join(data, "db")}`,
      `cat ${join(otherEnv, "notes.txt")}`,
      `cat ${join(hostHome, ".ssh", "id_rsa")}`,
    ];
    for (const read of reads) {
      const result = await inside(spec, read);
      assert.notEqual(result.code, 0, `${read} gave: ${result.stdout}`);
      assert.match(result.stderr, refused, read);
      const control = await outside(read.replace("/proc/1/root", "/proc/self/root"));
      assert.equal(control.code, 0, `the control could not ${read}: ${control.stderr}`);
    }
    // Hidden folders are empty but for the mount points of what is bound inside them.
    assert.equal((await inside(spec, `ls -A ${join(data, "envs", "app")}`)).stdout, "env_A\n");
    assert.equal((await inside(spec, `ls -A ${data}`)).stdout.split("\n").filter(Boolean).sort().join(" "), "envs homes repos");
    assert.equal((await inside(spec, "ls -A /root")).stdout, "");
    assert.equal((await inside(spec, `ls -A ${hostHome}`)).stdout, "");
  });

  it("shows git the history behind the checkout's alternates, read-only, and lets it commit in the checkout", async () => {
    assert.equal(readFileSync(join(checkout, ".git", "objects", "info", "alternates"), "utf8").trim(), objects);
    const result = await inside(spec, "git status --porcelain --untracked-files=no && git log --format=%s && git commit --quiet --allow-empty -m 'in the sandbox' && git log --format=%s");
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "commit 1\nin the sandbox\ncommit 1\n");
    assert.equal((await gitOk(["log", "-1", "--format=%s"], { cwd: checkout })).trim(), "in the sandbox");

    const write = await inside(spec, `touch ${join(objects, "probe")}`);
    assert.match(write.stderr, /Read-only file system/);
    assert.ok(!existsSync(join(objects, "probe")));
    // Without the read-only exposure the hidden data dir takes the objects with it: git fails.
    const unexposed = await inside({ ...spec, readOnly: [] }, "git log --format=%s");
    assert.notEqual(unexposed.code, 0);
  });

  describe("network", () => {
    let server: Server;
    let port: number;
    const hostAddresses = Object.values(networkInterfaces()).flatMap((list) => list ?? []).filter((a) => a.family === "IPv4" && !a.internal).map((a) => a.address);
    const connect = (address: string) => `exec 3<>/dev/tcp/${address}/${port} && echo connected`;

    before(async () => {
      server = createServer((socket) => socket.end());
      await new Promise<void>((resolve) => server.listen(0, "0.0.0.0", resolve));
      port = (server.address() as { port: number }).port;
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it("is unreachable with network: false, the host's loopback and its other addresses alike", async () => {
      for (const address of ["127.0.0.1", ...hostAddresses]) {
        const result = await inside(spec, connect(address));
        assert.notEqual(result.code, 0, `reached ${address}`);
        assert.equal(result.stdout, "");
        assert.equal((await outside(connect(address))).stdout, "connected\n", `the control could not reach ${address}`);
      }
    });

    it("reaches the host's loopback with network: true", async () => {
      assert.equal((await inside({ ...spec, network: true }, connect("127.0.0.1"))).stdout, "connected\n");
    });

    it("cannot reach the host daemons' unix sockets under /run, with network or without", async (t) => {
      const socket = `/run/cook-sandbox-test-${randomBytes(4).toString("hex")}.sock`;
      const unixServer = createServer((s) => s.end());
      try {
        await new Promise<void>((resolve, reject) => unixServer.once("error", reject).listen(socket, resolve));
      } catch {
        t.skip("this user cannot make a socket in /run");
        return;
      }
      try {
        const script = `${process.execPath} -e 'require("net").connect(process.argv[1]).on("connect", () => { console.log("connected"); process.exit(0); }).on("error", (e) => { console.log(e.code); process.exit(1); })' ${socket}`;
        for (const network of [false, true]) assert.equal((await inside({ ...spec, network }, script)).stdout, "ENOENT\n");
        assert.equal((await outside(script)).stdout, "connected\n");
      } finally {
        await new Promise((resolve) => unixServer.close(resolve));
      }
    });
  });

  it("keeps root, or anyone, from mounting, remounting, chrooting, making namespaces or writing sysctls", async () => {
    const identity = await inside(spec, "id -u; grep CapEff /proc/self/status");
    assert.equal(identity.stdout, "1000\nCapEff:\t0000000000000000\n");
    const escapes = [
      "mount -t tmpfs none /mnt",
      `mount -o remount,bind,rw ${objects}`,
      `umount ${data}`,
      `mkdir -p escape && mount --bind / escape`,
      "chroot / true",
      "unshare --mount true",
      "unshare --user --map-root-user true",
      ": >> /proc/sys/kernel/core_pattern",
    ];
    for (const escape of escapes) {
      const result = await inside(spec, escape);
      assert.notEqual(result.code, 0, escape);
      assert.match(result.stderr, refused, escape);
    }
    // As root outside, the same calls succeed (in a mount namespace of their own, to leave the host alone).
    if (isRoot) {
      for (const control of ["unshare --mount mount -t tmpfs none /mnt", "chroot / true", "unshare --user --map-root-user true", ": >> /proc/sys/kernel/core_pattern"]) {
        const result = await outside(control);
        assert.equal(result.code, 0, `${control}: ${result.stderr}`);
      }
    }
  });

  it("leaves no process behind when bwrap is killed", async () => {
    const sleeps = [`${randomInt(1000, 9000)}.1`, `${randomInt(1000, 9000)}.2`];
    const [file, ...args] = sandboxArgv(spec, ["bash", "-c", `sleep ${sleeps[0]} & sleep ${sleeps[1]}`]);
    const child = spawn(file!, args, { env: spec.env, stdio: "ignore" });
    await eventually(() => sleeps.every((s) => hostProcesses(["sleep", s]).length === 1) || undefined, 10_000, "both sleeps");
    child.kill("SIGKILL");
    await eventually(() => sleeps.every((s) => hostProcesses(["sleep", s]).length === 0) || undefined, 10_000, "the sleeps to end");
  });

  it("gives an interactive login bash job control in a pty of its own with terminal: true", async () => {
    const [file, ...args] = sandboxArgv({ ...spec, terminal: true }, ["bash", "--login", "-i"]);
    const term = pty.spawn(file!, args, { name: "xterm", cols: 100, rows: 30, env: spec.env });
    const out = ptyOutput(term);
    const exited = new Promise<number>((resolve) => term.onExit(({ exitCode }) => resolve(exitCode)));
    try {
      const sleep = `${randomInt(1000, 9000)}.3`;
      term.write(`sleep ${sleep}\r`);
      await eventually(() => hostProcesses(["sleep", sleep]).length === 1 || undefined, 10_000, "the sleep in the foreground");
      term.write("\x1a"); // Ctrl-Z
      await out.waitFor(/Stopped\s+sleep/, "the job to stop");
      // Reaped before the echo: with a stopped job still listed, bash answers the first `exit` with "There are stopped jobs."
      term.write("kill -9 %1; wait %1 2>/dev/null; echo job-control-$((6*7))\r");
      await out.waitFor(/job-control-42/, "the shell to take commands again");
      term.write("exit\r");
      assert.equal(await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve(`no exit; the terminal shows ${JSON.stringify(out.text().slice(-300))}`), 10_000))]), 0);
      assert.doesNotMatch(out.text(), /no job control|cannot set terminal process group/);
    } finally {
      term.kill();
    }
  });

  it("detaches the command from the caller's terminal without terminal: true, so it cannot type into it", async () => {
    const script = "if (: </dev/tty) 2>/dev/null; then echo attached; else echo detached; fi";
    for (const [argv, expected] of [[sandboxArgv(spec, ["bash", "-c", script]), "detached"], [["bash", "-c", script], "attached"]] as const) {
      const term = pty.spawn(argv[0]!, argv.slice(1), { name: "xterm", cols: 80, rows: 24, env: spec.env });
      const out = ptyOutput(term);
      await new Promise((resolve) => term.onExit(resolve));
      assert.equal(out.text().trim(), expected);
    }
  });
});
