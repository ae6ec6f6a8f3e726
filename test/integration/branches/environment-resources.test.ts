import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { startCook, type RunningCook } from "../../helpers/cook.js";
import { testServerUrl } from "../../helpers/database.js";
import { gitOk, tempDir } from "../../helpers/git.js";

// cook.toml's copy, ports and databases, through cook branch create against a real PostgreSQL.
describe("environment resources from cook.toml", () => {
  let cook: RunningCook;
  let work: string;
  const copyRoot = tempDir("cook-copy-");

  before(async () => {
    mkdirSync(join(copyRoot, "app", "config"), { recursive: true });
    writeFileSync(join(copyRoot, "app", ".env"), "SECRET=from-copy-from\n");
    writeFileSync(join(copyRoot, "app", "config", "local.json"), "{}\n");
    cook = await startCook({ config: `[environments]\ndatabase_url = "${testServerUrl()}"\ncopy_from = "${copyRoot}/{repo}"\nport_range = "31000-31999"\n` });
    assert.equal((await cook.cli(["repo", "add", "app"])).code, 0);
    work = join(tempDir(), "app");
    await gitOk(["clone", "--quiet", `${cook.url}/app.git`, work]);
    writeFileSync(join(work, "cook.toml"), '[environment]\ncopy = [".env", "config/local.json", "not-there.txt"]\nports = 5\ndatabases = ["app", "cache"]\nsetup = "psql -q \\"$COOK_DB_APP_URL\\" -c \'create table made_by_setup (x int)\'"\n');
    writeFileSync(join(work, ".gitignore"), ".env\nconfig/local.json\n");
    await gitOk(["add", "."], { cwd: work });
    await gitOk(["commit", "--quiet", "-m", "first"], { cwd: work });
    await gitOk(["push", "--quiet", "origin", "main"], { cwd: work });
  });
  after(() => cook?.stop());

  const databases = async () => {
    const client = new pg.Client({ connectionString: testServerUrl() });
    await client.connect();
    try {
      return (await client.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'cook\\_%' ORDER BY 1")).rows.map((row) => row.datname);
    } finally {
      await client.end();
    }
  };

  it("copies the listed files, hands out a port block and a database per name, and drops them at the end", async () => {
    const created = await cook.cli(["branch", "create", "app", "with-resources", "--json"]);
    assert.equal(created.code, 0, created.stderr);
    const { branch, environment } = JSON.parse(created.stdout) as { branch: { id: string }; environment: { id: string; path: string; state: string; portBase: number; portCount: number } };
    assert.equal(environment.state, "ready");
    assert.equal(readFileSync(join(environment.path, ".env"), "utf8"), "SECRET=from-copy-from\n");
    assert.equal(readFileSync(join(environment.path, "config", "local.json"), "utf8"), "{}\n");
    assert.ok(environment.portBase >= 31000 && environment.portBase + 4 <= 31999);
    assert.equal(environment.portCount, 5);

    const vars = await cook.cli(["branch", "exec", "with-resources", "--", "sh", "-c", 'echo "$DATABASE_URL"; echo "$COOK_DB_APP_URL"; echo "$COOK_DB_CACHE_URL"; psql -qtA "$DATABASE_URL" -c "select count(*) from made_by_setup"']);
    assert.equal(vars.code, 0, vars.stderr);
    const [main, app, cache, count] = vars.stdout.trim().split("\n");
    assert.equal(main, app);
    assert.notEqual(app, cache);
    assert.equal(count, "0", "the setup script made its table in the environment's database");
    assert.match(new URL(app!).username, /^cook_[0-9a-z]{26}$/, "the environment connects as its own role");
    const shown = JSON.parse((await cook.cli(["branch", "show", branch.id, "--json"])).stdout) as { setupLog: string };
    assert.match(shown.setupLog, /copied 2 path\(s\) from .*; not there: not-there\.txt/);

    const other = JSON.parse((await cook.cli(["branch", "create", "app", "other-resources", "--json"])).stdout) as { environment: { portBase: number } };
    assert.ok(other.environment.portBase >= environment.portBase + 5 || other.environment.portBase + 5 <= environment.portBase, "port blocks do not overlap");
    const names = new URL(app!).pathname.slice(1);
    assert.ok((await databases()).includes(names));

    assert.equal((await cook.cli(["branch", "abandon", "with-resources"])).code, 0);
    assert.ok(!(await databases()).includes(names), "abandoning drops the environment's databases");
    assert.equal((await cook.cli(["branch", "abandon", "other-resources"])).code, 0);
  });

  it("refuses a cook.toml whose copy path escapes the source folder, creating nothing", async () => {
    await gitOk(["checkout", "--quiet", "-b", "escape"], { cwd: work });
    writeFileSync(join(work, "cook.toml"), '[environment]\ncopy = ["../other-repo/.env"]\n');
    await gitOk(["commit", "--quiet", "-am", "escape"], { cwd: work });
    await gitOk(["push", "--quiet", "origin", "escape"], { cwd: work });
    const result = await cook.cli(["branch", "create", "app", "escaping", "--base=escape"]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^cook: cook\.toml on escape: environment\.copy/);
    const refs = await gitOk(["ls-remote", `${cook.url}/app.git`, "refs/heads/escaping"]);
    assert.equal(refs, "", "no ref was made");
  });
});
