import { spawn } from "node:child_process";
import * as fs from "node:fs";
import { join } from "node:path";
import * as isogit from "isomorphic-git";
import isoHttp from "isomorphic-git/http/node";
import { packageRoot } from "../../src/config/package-root.js";
import { git, gitOk, revParse, tempDir } from "./git.js";

/** What a client is given when it asks: any user name, a cook token as the password. */
export interface Credentials {
  username: string;
  password: string;
}

export interface ClientRun {
  /** How often the client asked its callback (credential helper, onAuth …) for credentials. */
  credentialsAsked: number;
}

/**
 * One real git client, driven the way its users drive it. Each operation is a fresh process (or,
 * for isomorphic-git, a fresh call), so credentials are asked for again when the server wants them.
 */
export interface GitClient {
  name: string;
  /** Which wire protocol it speaks to a smart HTTP server. */
  protocol: string;
  clone(url: string, dir: string, credentials?: Credentials): Promise<ClientRun>;
  /** Fetches every branch of origin into refs/remotes/origin/*. */
  fetch(dir: string, credentials?: Credentials): Promise<ClientRun>;
  /** Commits a new file on top of HEAD and pushes it as a new branch; resolves with the commit pushed. */
  pushNewBranch(dir: string, branch: string, credentials?: Credentials): Promise<ClientRun & { head: string }>;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a client command; a missing command fails (never skips) with the package that provides it. */
function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; install: string; input?: string }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ["pipe", "pipe", "pipe"] });
    child.stdin.on("error", () => {}); // it may exit without reading
    child.stdin.end(options.input ?? "");
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command} (${err.message}): install ${options.install} (.ci/run does)`));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function ok(what: string, result: Run, mask?: string): Run {
  if (result.code === 0) return result;
  const output = `${result.stdout}${result.stderr}`.trim();
  throw new Error(`${what} exited ${result.code}:\n${mask ? output.replaceAll(mask, "<token>") : output}`);
}

/** The real git client with a credential helper (`-c credential.helper=…`) that answers and counts. */
export function gitCli(): GitClient {
  const home = tempDir("cook-git-client-");
  const helper = join(home, "credential-helper");
  const log = join(home, "asked");
  fs.writeFileSync(log, "");
  fs.writeFileSync(helper, `#!/bin/sh\n[ "$1" = get ] || exit 0\n[ -n "$COOK_CLIENT_PASSWORD" ] || exit 0\necho get >> '${log}'\nprintf 'username=%s\\npassword=%s\\n' "$COOK_CLIENT_USERNAME" "$COOK_CLIENT_PASSWORD"\n`);
  fs.chmodSync(helper, 0o755);
  const asked = () => fs.readFileSync(log, "utf8").split("\n").filter(Boolean).length;
  const gitWith = async (args: string[], cwd: string | undefined, credentials?: Credentials) => {
    const before = asked();
    const env: Record<string, string> = credentials ? { COOK_CLIENT_USERNAME: credentials.username, COOK_CLIENT_PASSWORD: credentials.password } : {};
    // The empty helper first clears any helper the machine's config names.
    ok(`git ${args[0]}`, await git(["-c", "credential.helper=", "-c", `credential.helper=${helper}`, ...args], { cwd, env }));
    return { credentialsAsked: asked() - before };
  };
  return {
    name: "git",
    protocol: "v2",
    clone: (url, dir, credentials) => gitWith(["clone", "--quiet", url, dir], undefined, credentials),
    fetch: (dir, credentials) => gitWith(["fetch", "--quiet", "origin"], dir, credentials),
    async pushNewBranch(dir, branch, credentials) {
      const head = await commitWithGit(dir, branch);
      return { ...(await gitWith(["push", "--quiet", "origin", `HEAD:refs/heads/${branch}`], dir, credentials)), head };
    },
  };
}

async function commitWithGit(dir: string, branch: string): Promise<string> {
  fs.writeFileSync(join(dir, `${branch}.txt`), `${branch}\n`);
  await gitOk(["add", "--all"], { cwd: dir });
  await gitOk(["commit", "--quiet", "-m", `work on ${branch}`], { cwd: dir });
  return revParse(dir, "HEAD");
}

// Debian's Python packages are installed for Debian's python3, not for one earlier on PATH (pyenv).
const debianPython = "/usr/bin/python3";

/** A driver script under test/fixtures/clients that prints one JSON report line. */
function pythonClient(name: string, script: string, install: string): GitClient {
  const path = join(packageRoot(), "test", "fixtures", "clients", script);
  const call = async (args: string[], credentials?: Credentials) => {
    const env = { PATH: process.env.PATH, HOME: tempDir("cook-py-home-"), ...(credentials ? { COOK_CLIENT_USERNAME: credentials.username, COOK_CLIENT_PASSWORD: credentials.password } : {}) };
    const result = await run(debianPython, [path, ...args], { env, install });
    if (/ModuleNotFoundError/.test(result.stderr)) throw new Error(`${name} is missing: install ${install} (.ci/run does)\n${result.stderr}`);
    ok(`${name} ${args[0]}`, result);
    return JSON.parse(result.stdout.trim().split("\n").pop()!) as { credentialsAsked: number; head: string | null };
  };
  return {
    name,
    protocol: "v0",
    clone: async (url, dir, credentials) => ({ credentialsAsked: (await call(["clone", url, dir], credentials)).credentialsAsked }),
    fetch: async (dir, credentials) => ({ credentialsAsked: (await call(["fetch", dir], credentials)).credentialsAsked }),
    async pushNewBranch(dir, branch, credentials) {
      const report = await call(["push", dir, branch], credentials);
      return { credentialsAsked: report.credentialsAsked, head: report.head! };
    },
  };
}

/** libgit2 through pygit2: credentials come only from RemoteCallbacks.credentials, called on 401. */
export const pygit2Client = () => pythonClient("pygit2", "pygit2-client.py", "python3-pygit2");

/** dulwich: sends the URL's user name up front, raises HTTPUnauthorized on 401; the script then retries with credentials. */
export const dulwichClient = () => pythonClient("dulwich", "dulwich-client.py", "python3-dulwich");

/** isomorphic-git with its node HTTP client: credentials come only from onAuth, called on 401. */
export function isomorphicGitClient(): GitClient {
  const withAuth = (credentials?: Credentials) => {
    const run: ClientRun = { credentialsAsked: 0 };
    const callbacks = {
      onAuth: () => {
        run.credentialsAsked += 1;
        return credentials ?? { cancel: true };
      },
      // A refused password must fail the operation, not be offered again.
      onAuthFailure: () => ({ cancel: true }),
    };
    return { run, callbacks };
  };
  const author = { name: "Test Author", email: "author@example.com" };
  return {
    name: "isomorphic-git",
    protocol: "v0",
    async clone(url, dir, credentials) {
      const { run, callbacks } = withAuth(credentials);
      await isogit.clone({ fs, http: isoHttp, dir, url, ...callbacks });
      return run;
    },
    async fetch(dir, credentials) {
      const { run, callbacks } = withAuth(credentials);
      await isogit.fetch({ fs, http: isoHttp, dir, remote: "origin", ...callbacks });
      return run;
    },
    async pushNewBranch(dir, branch, credentials) {
      const { run, callbacks } = withAuth(credentials);
      await isogit.branch({ fs, dir, ref: branch, checkout: true });
      fs.writeFileSync(join(dir, "isomorphic-git.txt"), "pushed by isomorphic-git\n");
      await isogit.add({ fs, dir, filepath: "isomorphic-git.txt" });
      const head = await isogit.commit({ fs, dir, message: "work from isomorphic-git", author });
      const result = await isogit.push({ fs, http: isoHttp, dir, remote: "origin", ref: branch, ...callbacks });
      if (!result.ok) throw new Error(`isomorphic-git push refused: ${result.error ?? JSON.stringify(result.refs)}`);
      return { ...run, head };
    },
  };
}

// Debian bookworm's jgit-cli 4.11.9-2 leaves the LFS and Apache HTTP jars (and javaewah, which a
// manifest names JavaEWAH.jar) off the classpath: `jgit` fails at start with NoClassDefFoundError
// org/eclipse/jgit/lfs/BuiltinLFS. Its launcher adds JGIT_CLASSPATH, so they go there.
const jgitClasspath = ["org.eclipse.jgit.lfs", "org.eclipse.jgit.http.apache", "httpclient", "httpcore", "commons-logging", "javaewah", "slf4j-nop"].map((jar) => `/usr/share/java/${jar}.jar`).join(":");

/**
 * JGit's command line (Debian jgit-cli 4.11). Its one credentials callback outside a GUI is its
 * console prompt (ConsoleCredentialsProvider, "Username: Password: "), installed only when it runs
 * on a terminal: with credentials to give, it runs under script(1) and the answers are typed in.
 * Without a terminal it falls back to a GUI dialog, which fails headless. Commits are made with
 * git: only the transport is JGit's.
 */
export function jgitClient(): GitClient {
  const home = tempDir("cook-jgit-home-");
  // C1 only: JGit's work here is tiny, and the JVM's start is most of the time.
  const env = { PATH: process.env.PATH, HOME: home, JGIT_CLASSPATH: jgitClasspath, JAVA_TOOL_OPTIONS: "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC" };
  const jgit = async (args: string[], cwd?: string, credentials?: Credentials): Promise<ClientRun & { output: string }> => {
    const what = `jgit ${args[0]}`;
    if (!credentials) {
      const result = ok(what, await run("jgit", args, { cwd, env, install: "jgit-cli" }));
      return { credentialsAsked: 0, output: result.stdout + result.stderr };
    }
    const command = ["jgit", ...args].map((arg) => `'${arg.replace(/'/g, "'\\''")}'`).join(" ");
    const typed = `${credentials.username}\n${credentials.password}\n`;
    const result = ok(what, await run("script", ["--quiet", "--return", "--command", command, "/dev/null"], { cwd, env, install: "jgit-cli and util-linux's script", input: typed }), credentials.password);
    const output = result.stdout.replaceAll(credentials.password, "<token>");
    return { credentialsAsked: output.split("Password:").length - 1, output };
  };
  return {
    name: "jgit",
    protocol: "v0",
    clone: (url, dir, credentials) => jgit(["clone", url, dir], undefined, credentials),
    fetch: (dir, credentials) => jgit(["fetch", "origin"], dir, credentials),
    async pushNewBranch(dir, branch, credentials) {
      const head = await commitWithGit(dir, branch);
      const result = await jgit(["push", "origin", `HEAD:refs/heads/${branch}`], dir, credentials);
      // jgit push exits 0 even when the server refuses a ref; it prints "[remote rejected]".
      if (/rejected/.test(result.output)) throw new Error(`jgit push refused:\n${result.output}`);
      return { credentialsAsked: result.credentialsAsked, head };
    },
  };
}

