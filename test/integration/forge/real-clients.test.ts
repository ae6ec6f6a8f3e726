import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { dulwichClient, gitCli, isomorphicGitClient, jgitClient, pygit2Client, type ClientRun, type Credentials, type GitClient } from "../../helpers/git-clients.js";
import { gitOk, makeWorkRepo, revParse, tempDir } from "../../helpers/git.js";

// Git clients other than git itself, driven against a real server: one trusted localhost server,
// one that requires tokens. git speaks protocol v2 here; libgit2 1.5 (pygit2 1.11), dulwich 0.21,
// isomorphic-git and JGit 4.11 speak only v0, which is what they are tested with. Every client is
// required: a missing one fails its test naming the package to install (.ci/run installs them).
//
// What JGit 4.11 (Debian jgit-cli) cannot do, for reasons of its own:
// - its launcher leaves jars off the classpath (see git-clients.ts; JGIT_CLASSPATH mends it);
// - its only credentials callback is a console prompt, so with auth it runs on a terminal;
// - given `http://me@host/repo.git`, it answers the 401 with the user name and the password
//   "null" (the literal string) before it would prompt; that is a wrong token, which Cook refuses
//   with 403, so it never reaches its prompt. The last test records that.

interface Server {
  kind: "trusted" | "auth";
  cook: RunningCook;
  /** What clients answer when asked for credentials: undefined on the trusted server. */
  credentials: Credentials | undefined;
  /** For the test's own API calls. */
  headers: Record<string, string>;
}

/** Status codes the server logged for requests to one repo's git URLs, in order. */
/**
 * The statuses once the server's log has caught up: a client may be done before the line for the
 * last response (written after it was sent) reaches us, so wait until no new line came for 200 ms.
 */
async function settledGitStatuses(cook: RunningCook, repo: string): Promise<number[]> {
  let statuses = gitStatuses(cook, repo);
  for (let quietSince = Date.now(), deadline = Date.now() + 5000; Date.now() - quietSince < 200 && Date.now() < deadline; ) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    const now = gitStatuses(cook, repo);
    if (now.length !== statuses.length) {
      statuses = now;
      quietSince = Date.now();
    }
  }
  return statuses;
}

function gitStatuses(cook: RunningCook, repo: string): number[] {
  return cook
    .output()
    .split("\n")
    .filter((line) => line.includes('"msg":"request"'))
    .map((line) => JSON.parse(line) as { path: string; status: number })
    .filter((entry) => entry.path.startsWith(`/${repo}.git/`) || entry.path.startsWith(`/${repo}/`))
    .map((entry) => entry.status);
}

async function addRepo(server: Server, name: string, source: string): Promise<string> {
  const response = await fetch(`${server.cook.url}/api/repos`, { method: "POST", headers: { ...server.headers, "Content-Type": "application/json" }, body: JSON.stringify({ name, clone: source }) });
  assert.equal(response.status, 201, await response.text());
  return join(server.cook.dataDir, "repos", `${name}.git`);
}

/** Moves `topic` by a commit made in the bare repo itself, so no request of the test's own shows in the log. */
async function moveTopic(gitDir: string): Promise<string> {
  const tree = (await gitOk(["--git-dir", gitDir, "rev-parse", "topic^{tree}"])).trim();
  const commit = (await gitOk(["--git-dir", gitDir, "commit-tree", tree, "-p", "topic", "-m", "upstream moved"])).trim();
  await gitOk(["--git-dir", gitDir, "update-ref", "refs/heads/topic", commit]);
  return commit;
}

/** A ref as the server's bare repo has it. */
async function serverRef(gitDir: string, ref: string): Promise<string | undefined> {
  const out = await gitOk(["--git-dir", gitDir, "for-each-ref", "--format=%(objectname)", ref]);
  return out.trim() || undefined;
}

const withUser = (url: string) => url.replace("http://", "http://me@");
const clients: Array<() => GitClient> = [gitCli, pygit2Client, dulwichClient, isomorphicGitClient, jgitClient];

describe("real git clients against a real server", { concurrency: true }, () => {
  const servers = {} as Record<Server["kind"], Server>;
  let seed: string;
  let seedMain: string;

  before(async () => {
    seed = await makeWorkRepo([{ "README.md": "seed\n" }, { "src/app.txt": "app\n" }]);
    await gitOk(["branch", "topic"], { cwd: seed });
    seedMain = await revParse(seed, "HEAD");
    const [trusted, auth] = await Promise.all([startCook(), startCook({ config: "[auth]\nrequired = true\n" })]);
    servers.trusted = { kind: "trusted", cook: trusted, credentials: undefined, headers: {} };
    const admin = readFileSync(join(auth.dataDir, "initial-admin-token"), "utf8").trim();
    const user = await auth.cli(["token", "create", "--scope", "user", "--name", "clients"], { env: { COOK_TOKEN: admin } });
    assert.equal(user.code, 0, user.stderr);
    servers.auth = { kind: "auth", cook: auth, credentials: { username: "me", password: user.stdout.trim() }, headers: { Authorization: `Bearer ${admin}` } };
  });
  after(async () => {
    await Promise.all(Object.values(servers).map((server) => server.cook.stop()));
  });

  for (const makeClient of clients) {
    for (const kind of ["trusted", "auth"] as const) {
      const client = makeClient();
      const what = kind === "trusted" ? "on a trusted localhost server, with and without a user name in the URL" : "with auth required: 401 first, then credentials from its callback";
      it(`${client.name} (${client.protocol}) clones, fetches and pushes a new branch ${what}`, async () => {
        const server = servers[kind];
        const repo = `${client.name}-${kind}`;
        const gitDir = await addRepo(server, repo, seed);
        const plainUrl = `${server.cook.url}/${repo}.git`;
        // JGit cannot take a user name in the URL when auth is required (see the top of this file).
        const url = kind === "auth" && client.name === "jgit" ? plainUrl : withUser(plainUrl);
        const dir = join(tempDir(), "clone");
        // Each operation with the statuses the server logged for it.
        const runs: Array<ClientRun & { statuses: number[] }> = [];
        const step = async <T extends ClientRun>(operation: () => Promise<T>): Promise<T> => {
          const logged = gitStatuses(server.cook, repo).length;
          const result = await operation();
          runs.push({ credentialsAsked: result.credentialsAsked, statuses: (await settledGitStatuses(server.cook, repo)).slice(logged) });
          return result;
        };

        if (kind === "trusted") {
          const plain = join(tempDir(), "plain");
          await step(() => client.clone(plainUrl, plain));
          assert.equal(await revParse(plain, "HEAD"), seedMain);
        }
        await step(() => client.clone(url, dir, server.credentials));
        assert.equal(await revParse(dir, "HEAD"), seedMain);

        const moved = await moveTopic(gitDir);
        await step(() => client.fetch(dir, server.credentials));
        assert.equal(await revParse(dir, "refs/remotes/origin/topic"), moved);

        const branch = `${client.name}-work`;
        const pushed = await step(() => client.pushNewBranch(dir, branch, server.credentials));
        assert.equal(await serverRef(gitDir, `refs/heads/${branch}`), pushed.head);

        const report = JSON.stringify(runs);
        for (const run of runs) {
          if (kind === "trusted") {
            assert.equal(run.credentialsAsked, 0, `a trusted server never asks for credentials: ${report}`);
            assert.deepEqual([...new Set(run.statuses)], [200], report);
          } else {
            // Each operation starts without credentials, or with a user name and an empty password
            // (git and libgit2 try that before asking): 401, never 403. The client then asks its
            // callback once, and the rest succeeds.
            assert.equal(run.statuses[0], 401, report);
            assert.equal(run.statuses.at(-1), 200, report);
            assert.deepEqual([...new Set(run.statuses)].sort(), [200, 401], report);
            assert.equal(run.credentialsAsked, 1, report);
          }
        }
      });
    }
  }

  it("isomorphic-git, which hangs up after 5 s of silence, pushes while the hooks take longer than that", async () => {
    const server = servers.trusted;
    const gitDir = await addRepo(server, "slow-hooks", seed);
    // Stands in for a pre-receive check that takes its time; git keeps the client waiting with keepalives.
    rmSync(join(gitDir, "hooks", "pre-receive"));
    writeFileSync(join(gitDir, "hooks", "pre-receive"), "#!/bin/sh\ncat >/dev/null\nsleep 6\n", { mode: 0o755 });
    const client = isomorphicGitClient();
    const dir = join(tempDir(), "clone");
    await client.clone(`${server.cook.url}/slow-hooks.git`, dir);
    const pushed = await client.pushNewBranch(dir, "slow", undefined);
    assert.equal(await serverRef(gitDir, "refs/heads/slow"), pushed.head);
  });

  it("jgit answers a 401 for http://me@host/repo.git with the password 'null', is told 401 again (not a valid token), asks for the token and clones", async () => {
    const server = servers.auth;
    await addRepo(server, "jgit-user-in-url", seed);
    const dir = join(tempDir(), "clone");
    const clone = await jgitClient().clone(withUser(`${server.cook.url}/jgit-user-in-url.git`), dir, server.credentials);
    assert.equal(await revParse(dir, "HEAD"), seedMain);
    assert.equal(clone.credentialsAsked, 1);
    const statuses = await settledGitStatuses(server.cook, "jgit-user-in-url");
    assert.deepEqual(statuses.slice(0, 2), [401, 401]);
    assert.ok(statuses.slice(2).length > 0 && statuses.slice(2).every((status) => status === 200), statuses.join(" "));
  });
});
