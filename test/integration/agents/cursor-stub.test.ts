import assert from "node:assert/strict";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { packageRoot } from "../../../src/config/package-root.js";
import { seedAppRepo } from "../../helpers/branch-fixture.js";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { tempDir } from "../../helpers/git.js";
import { agentApi } from "../../helpers/agent-api.js";

// Cursor's agent CLI cannot be installed offline: a stub stands in for it, replaying a recorded
// stream (test/fixtures/agent-streams/cursor) with the arguments Cook gave it logged, and doing the
// work the stream describes with git and cook, as the real one would through its tools.
const fixtures = join(packageRoot(), "test", "fixtures", "agent-streams", "cursor");
const sessionId = "c6b62c6f-7ead-4fd6-9922-e952131177ff";

function stub(dir: string): string {
  const path = join(dir, "cursor-agent");
  writeFileSync(
    path,
    `#!/bin/sh
for arg in "$@"; do printf '%s\\037' "$arg"; done >> "${dir}/argv.log"; printf '\\036' >> "${dir}/argv.log"
resume=""
while [ $# -gt 0 ]; do
  case "$1" in --resume) resume="$2"; shift ;; esac
  shift
done
if [ -n "$resume" ] && [ "$resume" != "${sessionId}" ]; then echo "no such chat $resume" >&2; exit 1; fi
case "$STUB_SCENARIO" in
  no-result) cat "${fixtures}/composed-no-result-exit-0.jsonl" ;;
  *) cat "${fixtures}/composed-2025-read-write.jsonl"; echo "This is a sample project..." > summary.txt; git add summary.txt; git commit -qm "summary"; cook done >&2 ;;
esac
`,
  );
  chmodSync(path, 0o755);
  return path;
}

describe("a Cursor agent session, with a stub replaying a recorded stream", () => {
  let cook: RunningCook;
  let dir: string;
  before(async () => {
    dir = tempDir();
    const program = stub(dir);
    cook = await startCook({
      config: ["[agents.cursor]", `command = "${program}"`, 'env = { CURSOR_API_KEY = "cursor-test-key-1234" }', "[agents.cursor-quiet]", 'kind = "cursor"', `command = "${program}"`, 'env = { CURSOR_API_KEY = "cursor-test-key-1234", STUB_SCENARIO = "no-result" }'].join("\n"),
    });
    await seedAppRepo(cook);
  });
  after(() => cook?.stop());
  const { api, ended } = agentApi({
    get url() {
      return cook.url;
    },
  });


  it("runs it unattended, takes the chat id from the stream, and resumes by that id", async () => {
    const created = await api<{ branch: { id: string }; session: { id: string } }>("POST", "/api/branches", { repo: "app", name: "cursor-work", agent: "cursor", prompt: "Read README.md and create a summary" });
    const first = await ended(created.session.id);
    assert.equal(first.status, "completed", first.reason);
    assert.equal(first.nativeId, sessionId);
    const { events } = await api<{ events: Array<{ kind: string; name?: string }> }>("GET", `/api/sessions/${created.session.id}/events`);
    assert.deepEqual(events.slice(0, 2).map((e) => e.kind), ["user_prompt", "session_started"]);
    assert.ok(events.some((e) => e.kind === "tool_call"));
    assert.ok(events.some((e) => e.kind === "file_change"));

    await api("POST", `/api/branches/${created.branch.id}/prompt`, { prompt: "and once more" });
    const second = await ended(created.session.id);
    assert.equal(second.runs, 2);
    const runs = readFileSync(join(dir, "argv.log"), "utf8").split("\x1e").filter(Boolean).map((run) => run.split("\x1f").slice(0, -1));
    assert.equal(runs.length, 2);
    assert.deepEqual(runs[0]!.slice(0, 4), ["-p", "--output-format", "stream-json", "--force"]);
    assert.match(runs[0]!.at(-1)!, /^You are working in a Cook environment: a checkout of branch 'cursor-work'[\s\S]*cook done[\s\S]*\n\nRead README.md and create a summary$/);
    assert.deepEqual(runs[1], ["-p", "--output-format", "stream-json", "--force", "--resume", sessionId, "and once more"]);
  });

  it("a run that ends without a result line and exit 0 is not left hanging: it waits on a human, saying why", async () => {
    const created = await api<{ session: { id: string } }>("POST", "/api/branches", { repo: "app", name: "cursor-quiet", agent: "cursor-quiet", prompt: "hello" });
    const end = await ended(created.session.id);
    assert.equal(end.status, "waiting");
    assert.equal(end.reason, "the run ended without commits");
  });
});
