import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { connect } from "node:net";
import { gzipSync } from "node:zlib";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { eventually } from "../../helpers/wait.js";
import { gitEnv, gitOk, makeWorkRepo, tempDir } from "../../helpers/git.js";

/** git processes whose parent chain leads to the given process. */
function gitDescendants(pid: number): string[] {
  const out = execFileSync("ps", ["-eo", "pid=,ppid=,args="], { encoding: "utf8" });
  const rows = out
    .split("\n")
    .filter(Boolean)
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line)!.slice(1) as [string, string, string]);
  const children = new Map<string, string[]>();
  for (const [child, parent] of rows) children.set(parent, [...(children.get(parent) ?? []), child]);
  const found: string[] = [];
  const walk = (p: string) => {
    for (const child of children.get(p) ?? []) {
      const row = rows.find((r) => r[0] === child)!;
      // By the program run, not by any path in its arguments (the server's git spawner lives in …/git/).
      if (/^(\S*\/)?git$/.test(row[2].split(" ")[0]!)) found.push(`${row[0]} ${row[2]}`);
      walk(child);
    }
  };
  walk(String(pid));
  return found;
}

describe("smart HTTP under bad input", () => {
  let cook: RunningCook;

  before(async () => {
    cook = await startCook();
    // Big enough (≈ 20 MB of incompressible blobs) that a clone is still streaming when it is killed.
    const source = await makeWorkRepo(Array.from({ length: 10 }, (_, i) => ({ [`blob-${i}.bin`]: randomBytes(2 * 1024 * 1024) })));
    assert.equal((await cook.cli(["repo", "add", "big", `--clone=${source}`])).code, 0);
  });
  after(() => cook?.stop());

  it("answers a wrong request content type with 415", async () => {
    for (const service of ["git-upload-pack", "git-receive-pack"]) {
      const response = await fetch(`${cook.url}/big.git/${service}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
      assert.equal(response.status, 415, service);
      assert.match(await response.text(), new RegExp(`takes Content-Type application/x-${service}-request`));
    }
  });

  it("refuses the dumb HTTP protocol and wrong methods", async () => {
    assert.equal((await fetch(`${cook.url}/big.git/info/refs`)).status, 403);
    assert.equal((await fetch(`${cook.url}/big.git/git-upload-pack`)).status, 400);
  });

  it("never reaches a path outside the repos folder", async () => {
    const attempts = [
      "/..%2F..%2Fetc/info/refs?service=git-upload-pack",
      "/%2e%2e/info/refs?service=git-upload-pack",
      "/..%2fbig/info/refs?service=git-upload-pack",
      "/%2Fetc%2Fpasswd/info/refs?service=git-upload-pack",
      "/big.git%2F..%2F..%2F..%2Fetc/info/refs?service=git-upload-pack",
      "/.git/info/refs?service=git-upload-pack",
      "/trash/info/refs?service=git-upload-pack",
    ];
    for (const path of attempts) {
      const response = await fetch(`${cook.url}${path}`);
      assert.equal(response.status, 404, path);
      assert.doesNotMatch(await response.text(), /root:|# service/, path);
    }
    const raw = await new Promise<string>((resolve) => {
      const socket = connect(Number(new URL(cook.url).port), "127.0.0.1", () => socket.write("GET /../../etc/info/refs?service=git-upload-pack HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
      let data = "";
      socket.on("data", (chunk: Buffer) => (data += chunk));
      socket.on("end", () => resolve(data));
    });
    assert.match(raw, /^HTTP\/1\.1 404/);
  });

  it("survives a client killed mid-clone and leaves no git process behind", async () => {
    const dir = join(tempDir(), "killed");
    const clone = spawn("git", ["clone", "--no-checkout", `${cook.url}/big.git`, dir], { env: gitEnv(), stdio: "ignore" });
    // Wait until the server is busy with the clone, then kill the client.
    await eventually(() => (gitDescendants(cook.child.pid!).some((p) => /upload-pack|pack-objects/.test(p)) ? true : undefined), 10_000, "the server to start packing");
    clone.kill("SIGKILL");
    await eventually(() => (gitDescendants(cook.child.pid!).length === 0 ? true : undefined), 10_000, "git processes to go away");
    assert.equal((await fetch(`${cook.url}/healthz`)).status, 200);
    const again = join(tempDir(), "again");
    await gitOk(["clone", "--quiet", "--no-checkout", `${cook.url}/big.git`, again]);
  });

  it("answers a gzip body that is not gzip, or is cut short, with 400 and the reason, and leaves no git process behind", async () => {
    // Ref update commands with no flush after them: git waits for the rest, which never comes.
    const pkt = (line: string) => (line.length + 4).toString(16).padStart(4, "0") + line;
    const commands = Array.from({ length: 2000 }, (_, i) => pkt(`${"0".repeat(40)} ${randomBytes(20).toString("hex")} refs/heads/b${i}\0 report-status\n`)).join("");
    const cutShort = (text: string) => gzipSync(text).subarray(0, Math.floor(gzipSync(text).length / 2));
    const cases = [
      { service: "git-upload-pack", body: Buffer.from("this is not gzip"), reason: /request body is not valid gzip \(Content-Encoding: gzip\): incorrect header check/ },
      { service: "git-upload-pack", body: cutShort("0032want 0000000000000000000000000000000000000000\n".repeat(2000)), reason: /request body is not valid gzip \(Content-Encoding: gzip\): unexpected end of file/ },
      { service: "git-receive-pack", body: Buffer.from("this is not gzip"), reason: /request body is not valid gzip \(Content-Encoding: gzip\): incorrect header check/ },
      { service: "git-receive-pack", body: cutShort(commands), reason: /request body is not valid gzip \(Content-Encoding: gzip\): unexpected end of file/ },
    ];
    for (const { service, body, reason } of cases) {
      const response = await fetch(`${cook.url}/big.git/${service}`, {
        method: "POST",
        headers: { "Content-Type": `application/x-${service}-request`, "Content-Encoding": "gzip", Accept: "text/html" },
        body,
      });
      const what = `${service} ${String(reason)}`;
      assert.equal(response.status, 400, what);
      assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8", what);
      assert.match(await response.text(), reason, what);
    }
    await eventually(() => (gitDescendants(cook.child.pid!).length === 0 ? true : undefined), 10_000, "git processes to go away");
  });

  it("answers a gzip body that inflates past the upload-pack limit with 413", async () => {
    const bomb = gzipSync(Buffer.alloc(65 * 1024 * 1024));
    const response = await fetch(`${cook.url}/big.git/git-upload-pack`, {
      method: "POST",
      headers: { "Content-Type": "application/x-git-upload-pack-request", "Content-Encoding": "gzip", Accept: "text/html" },
      body: bomb,
    });
    assert.equal(response.status, 413);
    assert.equal(await response.text(), `request body is over ${64 * 1024 * 1024} bytes\n`);
  });

  it("answers every refusal on a git URL in one line of plain text, even to a browser", async () => {
    const refusals: Array<[string, RequestInit, number]> = [
      ["/big.git/info/refs", {}, 403],
      ["/big.git/info/refs?service=git-upload-pack", { method: "POST" }, 400],
      ["/big.git/git-upload-pack", {}, 400],
      ["/big.git/info/refs?service=git-upload-pack", { headers: { "Git-Protocol": "version=2;x" } }, 400],
      ["/big.git/info/refs?service=git-upload-pack", { headers: { Authorization: "Bearer cook_not-a-token" } }, 401],
      ["/nope.git/info/refs?service=git-upload-pack", {}, 404],
      ["/nope/git-upload-pack", { method: "POST" }, 404],
      ["/big.git/git-receive-pack", { method: "POST", headers: { "Content-Type": "text/html" }, body: "<p>" }, 415],
    ];
    for (const [path, init, status] of refusals) {
      const response = await fetch(`${cook.url}${path}`, { ...init, headers: { Accept: "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8", ...(init.headers as Record<string, string>) } });
      assert.equal(response.status, status, path);
      assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8", path);
      assert.match(await response.text(), /^[^<\n]+\n$/, path);
    }
  });
});
