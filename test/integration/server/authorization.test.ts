import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createRouters } from "../../../src/server/app.js";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { makeWorkRepo, revParse } from "../../helpers/git.js";
import { eventually } from "../../helpers/wait.js";

/**
 * "revoked": a user token revoked before use, sent as Bearer; "wrong": a secret that was never a
 * token, sent as git sends it (the Basic password). Both are no credentials at all: 401.
 */
type Actor = "nobody" | "revoked" | "wrong" | "agent" | "user" | "admin";
/** "ok": the route did its work (2xx or a redirect); a number: exactly that refusal. */
type Outcome = "ok" | 401 | 403 | 404 | 409 | 422;

/** The base URL and an admin's secret, for paths that need something made first (a branch to abandon). */
interface Setup {
  url: string;
  admin: string;
}

interface Case {
  /** The route as the router declares it, to check that every route is in this table. */
  route: string;
  method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  /** A path, or a function making what the request acts on first (each actor's request gets its own). */
  path: string | ((setup: Setup) => Promise<string>);
  body?: () => Record<string, unknown>;
  form?: () => Record<string, string>;
  /** What the agent token (agent:own/feature) and a user token get; admins always get "ok"; nobody, a revoked and a wrong token 401. */
  agent: Outcome;
  user: Outcome;
  /** What an admin gets, when not "ok" (a route asked about something that does not exist). */
  admin?: Outcome;
}

let n = 0;
const fresh = () => `t${Date.now().toString(36)}-${n++}`;

/** A new open branch without an environment, made by an admin through the API; resolves with its brn_ id. */
async function freshBranch(setup: Setup, repo: string): Promise<string> {
  const response = await fetch(`${setup.url}/api/branches`, {
    method: "POST",
    headers: { Authorization: `Bearer ${setup.admin}`, "Content-Type": "application/json" },
    body: JSON.stringify({ repo, name: `doomed/${fresh()}`, env: "none" }),
  });
  assert.equal(response.status, 201, await response.clone().text());
  return ((await response.json()) as { branch: { id: string } }).branch.id;
}

// The matrix: every route of the app, on the agent's own repo and on another one. An agent may
// read its own repo and push its branch; anything else about another repo is "not found".
const cases: Case[] = [
  { route: "GET /", method: "GET", path: "/", agent: 403, user: "ok" },
  { route: "GET /branches", method: "GET", path: "/branches", agent: 403, user: "ok" },
  { route: "GET /events", method: "GET", path: "/events", agent: "ok", user: "ok" },
  { route: "GET /events/live", method: "GET", path: "/events/live?after=0", agent: "ok", user: "ok" },
  { route: "GET /repos", method: "GET", path: "/repos", agent: 403, user: "ok" },
  // The factory page spans every repo unless it names one.
  { route: "GET /factory", method: "GET", path: "/factory", agent: 403, user: "ok" },
  { route: "GET /factory/live", method: "GET", path: "/factory/live?after=0", agent: 403, user: "ok" },
  { route: "GET /api/factory", method: "GET", path: "/api/factory", agent: 403, user: "ok" },
  ...["own", "other"].flatMap((repo): Case[] => {
    const agent: Outcome = repo === "own" ? "ok" : 404;
    const change: Outcome = repo === "own" ? 403 : 404;
    return [
      { route: "GET /repos/:repo", method: "GET", path: `/repos/${repo}`, agent, user: "ok" },
      { route: "GET /repos/:repo/tree/{*refPath}", method: "GET", path: `/repos/${repo}/tree/main`, agent, user: "ok" },
      { route: "GET /repos/:repo/blob/{*refPath}", method: "GET", path: `/repos/${repo}/blob/main/notes.txt`, agent, user: "ok" },
      { route: "GET /repos/:repo/raw/{*refPath}", method: "GET", path: `/repos/${repo}/raw/main/notes.txt`, agent, user: "ok" },
      { route: "GET /repos/:repo/commits/{*refPath}", method: "GET", path: `/repos/${repo}/commits/main`, agent, user: "ok" },
      { route: "GET /repos/:repo/commit/:sha", method: "GET", path: `/repos/${repo}/commit/HEAD_SHA`, agent, user: "ok" },
      { route: "GET /repos/:repo/branches", method: "GET", path: `/repos/${repo}/branches`, agent, user: "ok" },
      { route: "GET /repos/:repo/tags", method: "GET", path: `/repos/${repo}/tags`, agent, user: "ok" },
      { route: "GET /repos/:repo/autopilot", method: "GET", path: `/repos/${repo}/autopilot`, agent, user: "ok" },
      { route: "POST /repos/:repo/autopilot", method: "POST", path: `/repos/${repo}/autopilot`, form: () => ({ enabled: "off" }), agent: change, user: "ok" },
      { route: "POST /repos/:repo/stages/:stage/continue", method: "POST", path: `/repos/${repo}/stages/1/continue`, form: () => ({}), agent: change, user: 404, admin: 404 },
      { route: "GET /api/repos/:name", method: "GET", path: `/api/repos/${repo}`, agent, user: "ok" },
      { route: "GET /tasks", method: "GET", path: `/tasks?repo=${repo}`, agent, user: "ok" },
      { route: "GET /factory", method: "GET", path: `/factory?repo=${repo}`, agent, user: "ok" },
      { route: "GET /factory/live", method: "GET", path: `/factory/live?repo=${repo}&after=0`, agent, user: "ok" },
      { route: "GET /api/factory", method: "GET", path: `/api/factory?repo=${repo}`, agent, user: "ok" },
      { route: "GET /api/tasks", method: "GET", path: `/api/tasks?repo=${repo}`, agent, user: "ok" },
      { route: "GET /tasks/:id", method: "GET", path: `/tasks/${repo}-task`, agent, user: "ok" },
      { route: "GET /api/tasks/:id", method: "GET", path: `/api/tasks/${repo}-task`, agent, user: "ok" },
      // Changes: an agent may not make them even in its own repo (it pushes its branch; that is all).
      { route: "GET /tasks/new", method: "GET", path: `/tasks/new?repo=${repo}`, agent: change, user: "ok" },
      { route: "POST /tasks", method: "POST", path: "/tasks", form: () => ({ repo, title: `web ${fresh()}` }), agent: change, user: "ok" },
      { route: "POST /api/tasks", method: "POST", path: "/api/tasks", body: () => ({ repo, title: `api ${fresh()}` }), agent: change, user: "ok" },
      { route: "GET /tasks/:id/edit", method: "GET", path: `/tasks/${repo}-task/edit`, agent: change, user: "ok" },
      { route: "POST /tasks/:id", method: "POST", path: `/tasks/${repo}-task`, form: () => ({ repo, title: `edited ${fresh()}`, priority: "2" }), agent: change, user: "ok" },
      { route: "PATCH /api/tasks/:id", method: "PATCH", path: `/api/tasks/${repo}-task`, body: () => ({ title: `patched ${fresh()}` }), agent: change, user: "ok" },
      { route: "PUT /api/tasks/:id/markdown", method: "PUT", path: `/api/tasks/${repo}-task/markdown`, body: () => ({ markdown: `---\ntitle: put ${fresh()}\nrepo: ${repo}\n---\n` }), agent: change, user: "ok" },
      { route: "POST /tasks/:id/close", method: "POST", path: `/tasks/${repo}-closable/close`, agent: change, user: "ok" },
      { route: "POST /tasks/:id/reopen", method: "POST", path: `/tasks/${repo}-closable/reopen`, agent: change, user: "ok" },
      { route: "POST /api/tasks/:id/close", method: "POST", path: `/api/tasks/${repo}-closable/close`, agent: change, user: "ok" },
      { route: "POST /api/tasks/:id/reopen", method: "POST", path: `/api/tasks/${repo}-closable/reopen`, agent: change, user: "ok" },
      { route: "POST /api/events", method: "POST", path: "/api/events", body: () => ({ repo, name: "deployed" }), agent: change, user: "ok" },
      { route: "DELETE /api/repos/:name", method: "DELETE", path: `/api/repos/${repo}-doomed`, agent: 404, user: 403 },
      // Branches: the pages and the API. `feature` has a local environment in both repos; the agent's token is own/feature's.
      { route: "GET /branches", method: "GET", path: `/branches?repo=${repo}`, agent, user: "ok" },
      { route: "GET /branches/live", method: "GET", path: `/branches/live?repo=${repo}&after=0`, agent, user: "ok" },
      { route: "GET /branches/live", method: "GET", path: `/branches/live?branch=FEATURE_${repo}&after=0`, agent, user: "ok" },
      { route: "GET /branches/disk-use", method: "GET", path: `/branches/disk-use?repo=${repo}`, agent, user: "ok" },
      { route: "GET /branches/{*ref}", method: "GET", path: `/branches/${repo}/feature`, agent, user: "ok" },
      { route: "GET /branches/{*ref}", method: "GET", path: `/branches/${repo}/feature?tab=work`, agent, user: "ok" },
      { route: "GET /branches/new", method: "GET", path: `/branches/new?repo=${repo}`, agent: change, user: "ok" },
      { route: "POST /branches", method: "POST", path: "/branches", form: () => ({ repo, name: `web/${fresh()}`, env: "none" }), agent: change, user: "ok" },
      { route: "POST /branches/:id/abandon", method: "POST", path: async (setup) => `/branches/${await freshBranch(setup, repo)}/abandon`, agent: change, user: "ok" },
      { route: "POST /tasks/:id/start", method: "POST", path: `/tasks/${repo}-task/start`, agent: change, user: "ok" },
      // Agent sessions: prompting and interrupting change a branch; on a branch without an
      // environment or a session, those who may are told why not (409), after the decision.
      { route: "POST /branches/:id/prompt", method: "POST", path: async (setup) => `/branches/${await freshBranch(setup, repo)}/prompt`, form: () => ({ prompt: "hello" }), agent: change, user: 409, admin: 409 },
      { route: "POST /branches/:id/interrupt", method: "POST", path: async (setup) => `/branches/${await freshBranch(setup, repo)}/interrupt`, agent: change, user: 409, admin: 409 },
      { route: "GET /branches/{*ref}", method: "GET", path: `/branches/${repo}/feature?tab=agent&session=SESSION_${repo}`, agent, user: "ok" },
      { route: "GET /api/branches", method: "GET", path: `/api/branches?repo=${repo}`, agent, user: "ok" },
      { route: "GET /api/branches/*ref", method: "GET", path: `/api/branches/FEATURE_${repo}`, agent, user: "ok" },
      { route: "POST /api/branches", method: "POST", path: "/api/branches", body: () => ({ repo, name: `api/${fresh()}`, env: "none" }), agent: change, user: "ok" },
      { route: "POST /api/branches/adopt", method: "POST", path: "/api/branches/adopt", body: () => ({ repo, name: "no-such-git-branch" }), agent: change, user: 404, admin: 404 },
      // The Gates section's buttons are changes; a fresh branch's repo has no gates (nothing asks for
      // approval: 409 once allowed), so it is mergeable at once.
      { route: "POST /branches/:id/gates", method: "POST", path: async (setup) => `/branches/${await freshBranch(setup, repo)}/gates`, agent: change, user: "ok" },
      { route: "POST /branches/:id/approve", method: "POST", path: async (setup) => `/branches/${await freshBranch(setup, repo)}/approve`, form: () => ({ comment: "fine" }), agent: change, user: 409, admin: 409 },
      { route: "POST /branches/:id/reject", method: "POST", path: async (setup) => `/branches/${await freshBranch(setup, repo)}/reject`, form: () => ({ comment: "no" }), agent: change, user: 409, admin: 409 },
      { route: "POST /branches/:id/merge", method: "POST", path: async (setup) => `/branches/${await freshBranch(setup, repo)}/merge`, agent: change, user: "ok" },
      { route: "POST /branches/:id/auto-merge", method: "POST", path: async (setup) => `/branches/${await freshBranch(setup, repo)}/auto-merge`, form: () => ({ auto: "off" }), agent: change, user: "ok" },
      { route: "POST /api/branches/:id/abandon", method: "POST", path: async (setup) => `/api/branches/${await freshBranch(setup, repo)}/abandon`, agent: change, user: "ok" },
      // Running a command is a push: the agent's own branch only.
      { route: "POST /api/branches/:id/exec", method: "POST", path: `/api/branches/FEATURE_${repo}/exec`, body: () => ({ argv: ["true"] }), agent, user: "ok" },
      // Another branch of the agent's repo (no environment) and an ended one: refused to the agent before anyone learns more.
      { route: "POST /api/branches/:id/exec", method: "POST", path: `/api/branches/${repo === "own" ? "own-b" : "other-done"}/exec?repo=${repo}`, body: () => ({ argv: ["true"] }), agent: repo === "own" ? 403 : 404, user: 409, admin: 409 },
      // Agent sessions: prompting and interrupting are changes; a fresh branch has no environment or session to act on (409 once allowed).
      { route: "POST /api/branches/:id/prompt", method: "POST", path: async (setup) => `/api/branches/${await freshBranch(setup, repo)}/prompt`, body: () => ({ prompt: "hello" }), agent: change, user: 409, admin: 409 },
      { route: "POST /api/branches/:id/interrupt", method: "POST", path: async (setup) => `/api/branches/${await freshBranch(setup, repo)}/interrupt`, body: () => ({}), agent: change, user: 409, admin: 409 },
      { route: "GET /api/sessions/:id", method: "GET", path: `/api/sessions/SESSION_${repo}`, agent, user: "ok" },
      { route: "GET /api/sessions/:id/events", method: "GET", path: `/api/sessions/SESSION_${repo}/events`, agent, user: "ok" },
      // Gates and merge: reading them is reading the repo; running, judging and merging are changes.
      { route: "GET /api/branches/:id/gates", method: "GET", path: `/api/branches/FEATURE_${repo}/gates`, agent, user: "ok" },
      { route: "POST /api/branches/:id/gates", method: "POST", path: async (setup) => `/api/branches/${await freshBranch(setup, repo)}/gates`, body: () => ({}), agent: change, user: "ok" },
      { route: "GET /api/gate-runs/:id", method: "GET", path: `/api/gate-runs/RUN_${repo}`, agent, user: "ok" },
      { route: "GET /api/gate-runs/:id/log", method: "GET", path: `/api/gate-runs/RUN_${repo}/log?gate=none`, agent: 404, user: 404, admin: 404 },
      { route: "POST /api/branches/:id/approve", method: "POST", path: async (setup) => `/api/branches/${await freshBranch(setup, repo)}/approve`, body: () => ({}), agent: change, user: 409, admin: 409 },
      { route: "POST /api/branches/:id/reject", method: "POST", path: async (setup) => `/api/branches/${await freshBranch(setup, repo)}/reject`, body: () => ({ comment: "no" }), agent: change, user: 409, admin: 409 },
      { route: "POST /api/branches/:id/merge", method: "POST", path: async (setup) => `/api/branches/${await freshBranch(setup, repo)}/merge`, body: () => ({}), agent: change, user: "ok" },
      { route: "GET /api/repos/:name/merges", method: "GET", path: `/api/repos/${repo}/merges`, agent, user: "ok" },
      // Autopilot: its status is reading the repo; the switch is a change (an agent cannot turn it on or off).
      { route: "GET /api/repos/:name/autopilot", method: "GET", path: `/api/repos/${repo}/autopilot`, agent, user: "ok" },
      { route: "POST /api/repos/:name/autopilot", method: "POST", path: `/api/repos/${repo}/autopilot`, body: () => ({ enabled: false }), agent: change, user: "ok" },
      { route: "GET /api/repos/:name/stages", method: "GET", path: `/api/repos/${repo}/stages`, agent, user: "ok" },
      { route: "GET /api/repos/:name/conflicts", method: "GET", path: `/api/repos/${repo}/conflicts`, agent, user: "ok" },
      // Planning: reading plans is reading the repo; starting one (an empty goal: 422 once allowed) and accepting are changes.
      { route: "GET /api/repos/:name/plans", method: "GET", path: `/api/repos/${repo}/plans`, agent, user: "ok" },
      { route: "POST /api/repos/:name/plans", method: "POST", path: `/api/repos/${repo}/plans`, body: () => ({ goal: "" }), agent: change, user: 422, admin: 422 },
      { route: "POST /plans", method: "POST", path: "/plans", form: () => ({ repo, goal: "" }), agent: change, user: 422, admin: 422 },
      { route: "POST /api/repos/:name/stages/:stage/continue", method: "POST", path: `/api/repos/${repo}/stages/1/continue`, body: () => ({}), agent: change, user: 404, admin: 404 },
      // Reports from inside an environment: the agent's token speaks for its own branch (own/feature) only.
      { route: "POST /api/agent/done", method: "POST", path: "/api/agent/done", body: () => ({ repo, branch: "feature" }), agent, user: "ok" },
      { route: "POST /api/agent/help", method: "POST", path: "/api/agent/help", body: () => ({ repo, branch: "feature", message: "stuck" }), agent, user: "ok" },
      { route: "git", method: "GET", path: `/${repo}.git/info/refs?service=git-upload-pack`, agent, user: "ok" },
      { route: "git", method: "GET", path: `/${repo}.git/info/refs?service=git-receive-pack`, agent, user: "ok" },
    ];
  }),
  { route: "GET /api/repos", method: "GET", path: "/api/repos", agent: 403, user: "ok" },
  // A plan that does not exist is not found, before anyone is asked.
  { route: "GET /api/plans/:id", method: "GET", path: "/api/plans/pln_01m8tv2td2faprd0kj9q9adbha", agent: 404, user: 404, admin: 404 },
  { route: "GET /plans/:id", method: "GET", path: "/plans/pln_01m8tv2td2faprd0kj9q9adbha", agent: 404, user: 404, admin: 404 },
  { route: "POST /plans/:id/accept", method: "POST", path: "/plans/pln_01m8tv2td2faprd0kj9q9adbha/accept", form: () => ({ tasks: "x" }), agent: 404, user: 404, admin: 404 },
  { route: "POST /api/plans/:id/accept", method: "POST", path: "/api/plans/pln_01m8tv2td2faprd0kj9q9adbha/accept", body: () => ({}), agent: 404, user: 404, admin: 404 },
  { route: "GET /repos/new", method: "GET", path: "/repos/new", agent: 403, user: "ok" },
  { route: "POST /repos", method: "POST", path: "/repos", form: () => ({ name: fresh(), default_branch: "main", source: "" }), agent: 403, user: "ok" },
  { route: "GET /branches/live", method: "GET", path: "/branches/live?after=0", agent: 403, user: "ok" },
  { route: "GET /branches/disk-use", method: "GET", path: "/branches/disk-use", agent: 403, user: "ok" },
  { route: "GET /branches/new", method: "GET", path: "/branches/new", agent: 403, user: "ok" },
  { route: "GET /api/branches", method: "GET", path: "/api/branches", agent: 403, user: "ok" },
  { route: "POST /api/branches/gc", method: "POST", path: "/api/branches/gc", body: () => ({ remove: false }), agent: 403, user: 403 },
  { route: "GET /branches/{*ref}", method: "GET", path: "/branches/own/no-such-branch", agent: 404, user: 404, admin: 404 },
  { route: "POST /api/repos", method: "POST", path: "/api/repos", body: () => ({ name: fresh() }), agent: 403, user: "ok" },
  { route: "GET /api/tasks/export", method: "GET", path: "/api/tasks/export", agent: 403, user: "ok" },
  { route: "POST /api/tasks/import", method: "POST", path: "/api/tasks/import", body: () => ({ files: [{ name: "a.md", text: `---\ntitle: imported ${fresh()}\nrepo: own\n---\n` }] }), agent: 403, user: "ok" },
  { route: "GET /tasks", method: "GET", path: "/tasks", agent: 403, user: "ok" },
  { route: "GET /api/tasks", method: "GET", path: "/api/tasks", agent: 403, user: "ok" },
  { route: "GET /api/events", method: "GET", path: "/api/events", agent: "ok", user: "ok" },
  { route: "GET /api/events/stream", method: "GET", path: "/api/events/stream?after=0", agent: "ok", user: "ok" },
  { route: "GET /api/tokens", method: "GET", path: "/api/tokens", agent: 403, user: 403 },
  { route: "POST /api/tokens", method: "POST", path: "/api/tokens", body: () => ({ scope: "user" }), agent: 403, user: 403 },
  { route: "DELETE /api/tokens/:id", method: "DELETE", path: "/api/tokens/999999", agent: 403, user: 403, admin: 404 },
  { route: "GET /tasks/:id", method: "GET", path: "/tasks/missing-task", agent: 404, user: 404, admin: 404 },
  // A gate run nobody has: not found before anyone is asked.
  { route: "GET /api/gate-runs/:id", method: "GET", path: "/api/gate-runs/run_01h00000000000000000000000", agent: 404, user: 404, admin: 404 },
  { route: "GET /api/gate-runs/:id/log", method: "GET", path: "/api/gate-runs/run_01h00000000000000000000000/log?gate=ci", agent: 404, user: 404, admin: 404 },
];

describe("authorization: one decision for API, pages, streams and git", () => {
  let cook: RunningCook;
  const secrets: Record<Exclude<Actor, "nobody">, string> = { revoked: "", wrong: "cook_never-issued", agent: "", user: "", admin: "" };
  let headSha = "";
  const featureIds: Record<string, string> = {};
  const sessionIds: Record<string, string> = {};
  const runIds: Record<string, string> = {};

  before(async () => {
    cook = await startCook({ config: '[auth]\nrequired = true\n[agents.quick]\nkind = "command"\ncommand = "true"\n' });
    secrets.admin = readFileSync(join(cook.dataDir, "initial-admin-token"), "utf8").trim();
    const asAdmin = (args: string[]) => cook.cli(args, { env: { COOK_TOKEN: secrets.admin } });
    const seed = await makeWorkRepo([{ "notes.txt": "hello\n" }]);
    for (const repo of ["own", "other", "own-doomed", "other-doomed"]) {
      const added = await asAdmin(["repo", "add", repo, `--clone=${seed}`]);
      assert.equal(added.code, 0, added.stderr);
    }
    for (const [repo, id] of [["own", "own-task"], ["other", "other-task"], ["own", "own-closable"], ["other", "other-closable"]]) {
      const created = await asAdmin(["task", "create", repo!, `--title=${id}`, `--id=${id}`]);
      assert.equal(created.code, 0, created.stderr);
    }
    for (const args of [["own", "own-b", "--env=none"], ["own", "own-done", "--env=none"], ["other", "other-done", "--env=none"]]) {
      const created = await asAdmin(["branch", "create", ...args]);
      assert.equal(created.code, 0, created.stderr);
    }
    for (const done of ["own/own-done", "other/other-done"]) assert.equal((await asAdmin(["branch", "abandon", done])).code, 0);
    secrets.user = (await asAdmin(["token", "create", "--scope", "user"])).stdout.trim();
    const doomed = JSON.parse((await asAdmin(["token", "create", "--scope", "user", "--json"])).stdout) as { token: { id: number }; secret: string };
    assert.equal((await asAdmin(["token", "revoke", String(doomed.token.id)])).code, 0);
    secrets.revoked = doomed.secret;
    secrets.agent = (await asAdmin(["token", "create", "--scope", "agent:own/feature"])).stdout.trim();
    headSha = await revParse(seed, "HEAD");
    for (const repo of ["own", "other"]) {
      const created = await asAdmin(["branch", "create", repo, "feature", "--env=local", "--json"]);
      assert.equal(created.code, 0, created.stderr);
      featureIds[repo] = (JSON.parse(created.stdout) as { branch: { id: string } }).branch.id;
      const prompted = await fetch(`${cook.url}/api/branches/${featureIds[repo]}/prompt`, {
        method: "POST",
        headers: { Authorization: `Bearer ${secrets.admin}`, "Content-Type": "application/json" },
        body: JSON.stringify({ prompt: "say nothing", agent: "quick" }),
      });
      assert.equal(prompted.status, 202, await prompted.clone().text());
      sessionIds[repo] = ((await prompted.json()) as { session: { id: string } }).session.id;
      const gated = await fetch(`${cook.url}/api/branches/${featureIds[repo]}/gates`, { method: "POST", headers: { Authorization: `Bearer ${secrets.admin}`, "Content-Type": "application/json" }, body: "{}" });
      assert.equal(gated.status, 202, await gated.clone().text());
      runIds[repo] = ((await gated.json()) as { run: { id: string } }).run.id;
    }
  });
  after(() => cook?.stop());

  async function send(c: Case, actor: Actor): Promise<{ status: number; path: string; text: string; challenge: string | null }> {
    const made = typeof c.path === "string" ? c.path : await c.path({ url: cook.url, admin: secrets.admin });
    const path = made
      .replace("HEAD_SHA", headSha)
      .replace(/FEATURE_(own|other)/, (_, repo: string) => featureIds[repo]!)
      .replace(/SESSION_(own|other)/g, (_, repo: string) => sessionIds[repo]!)
      .replace(/RUN_(own|other)/g, (_, repo: string) => runIds[repo]!);
    const headers: Record<string, string> = { Accept: path.startsWith("/api/") ? "application/json" : "text/html" };
    if (actor === "wrong") headers.Authorization = `Basic ${Buffer.from(`me:${secrets.wrong}`).toString("base64")}`;
    else if (actor !== "nobody") headers.Authorization = `Bearer ${secrets[actor]}`;
    let body: string | undefined;
    if (c.body) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(c.body());
    } else if (c.form) {
      headers["Content-Type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(c.form()).toString();
    }
    const stream = path.includes("/live") || path.includes("/stream");
    const abort = new AbortController();
    const response = await fetch(`${cook.url}${path}`, { method: c.method, headers, body, redirect: "manual", signal: abort.signal });
    // A stream that was allowed never ends by itself: its status is the answer.
    const text = stream && response.ok ? "" : await response.text();
    abort.abort();
    return { status: response.status, path, text, challenge: response.headers.get("www-authenticate") };
  }

  const isOk = (status: number) => status >= 200 && status < 400;

  const callers: Record<Actor, string> = {
    nobody: "a caller without a token",
    revoked: "a revoked token",
    wrong: "a wrong token as the Basic password",
    agent: "a token of scope agent",
    user: "a token of scope user",
    admin: "a token of scope admin",
  };
  for (const actor of ["nobody", "revoked", "wrong", "agent", "user", "admin"] as const) {
    it(`gives ${callers[actor]} what the matrix says, on every route`, async () => {
      const wrong: string[] = [];
      for (const c of cases) {
        const expected: Outcome = actor === "nobody" || actor === "revoked" || actor === "wrong" ? 401 : actor === "admin" ? (c.admin ?? "ok") : c[actor];
        const { status, path, text, challenge } = await send(c, actor);
        const good = expected === "ok" ? isOk(status) : status === expected;
        if (!good) wrong.push(`${c.method} ${path}: expected ${expected}, got ${status} ${text.slice(0, 120)}`);
        // Every 401 asks for credentials again: git forgets a stored token (credential reject) only then.
        else if (expected === 401 && !/^Basic realm="cook"$/.test(challenge ?? "")) wrong.push(`${c.method} ${path}: 401 without WWW-Authenticate Basic (${challenge})`);
      }
      assert.deepEqual(wrong, []);
    });
  }

  it("shows an agent only its own repo's events, in the log and in the stream", async () => {
    const asAdmin = { Authorization: `Bearer ${secrets.admin}`, "Content-Type": "application/json" };
    for (const repo of ["own", "other"]) {
      const published = await fetch(`${cook.url}/api/events`, { method: "POST", headers: asAdmin, body: JSON.stringify({ repo, name: "marker" }) });
      assert.equal(published.status, 201);
    }
    // Both markers published (the log shows what the outbox relay has sent), as an admin sees them.
    await eventually(async () => {
      const all = (await (await fetch(`${cook.url}/api/events?subject=cook.custom.*.marker`, { headers: asAdmin })).json()) as { events: unknown[] };
      return all.events.length === 2 || undefined;
    }, 10_000, "both markers in the log");
    const log = (await (await fetch(`${cook.url}/api/events?limit=1000`, { headers: { Authorization: `Bearer ${secrets.agent}` } })).json()) as { events: Array<{ repo: string }> };
    assert.ok(log.events.length > 0);
    assert.deepEqual([...new Set(log.events.map((e) => e.repo))], ["own"]);
    // The log shows events once the outbox relay has published them, a moment after the commit.
    const page = await eventually(async () => {
      const html = await (await fetch(`${cook.url}/events`, { headers: { Authorization: `Bearer ${secrets.agent}` } })).text();
      return /cook\.custom\.own\.marker/.test(html) ? html : undefined;
    }, 10_000, "the agent's repo's event on the Events page");
    assert.doesNotMatch(page, /cook\.custom\.other\.marker|cook\.repo\.other/);
  });

  it("has a row in this matrix for every route the server has", () => {
    const routers = createRouters({ config: { forge: {} } } as never, {} as never, {} as never, {} as never);
    const declared = new Set(routers.flatMap((router) => router.stack.filter((layer) => layer.methods.length > 0).map((layer) => `${layer.methods.filter((m) => m !== "HEAD")[0]} ${layer.path}`)));
    const covered = new Set(cases.map((c) => c.route));
    // The terminal is a WebSocket handshake, which fetch cannot make: terminal-attach.test.ts checks its authorization.
    const elsewhere = new Set(["GET /healthz", "GET /api/branches/*ref/terminal"]);
    assert.deepEqual([...declared].filter((route) => !covered.has(route) && !route.includes("/internal/hooks") && !elsewhere.has(route)), []);
  });
});
