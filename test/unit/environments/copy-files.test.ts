import assert from "node:assert/strict";
import { chmod, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { copyIntoCheckout } from "../../../src/environments/copy-files.js";

describe("copyIntoCheckout", () => {
  let root: string;
  let source: string;
  let checkout: string;
  let elsewhere: string;
  let seq = 0;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), "cook-copy-files-"));
  });
  after(() => rm(root, { recursive: true, force: true }));

  beforeEach(async () => {
    const dir = join(root, String(++seq));
    source = join(dir, "copy-from");
    checkout = join(dir, "checkout");
    elsewhere = join(dir, "elsewhere");
    for (const folder of [source, checkout, elsewhere]) await mkdir(folder, { recursive: true });
    await write(join(checkout, "README.md"), "tracked\n");
    await write(join(elsewhere, "secret"), "the server's own secret\n");
  });

  async function write(file: string, text: string, mode?: number): Promise<void> {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, text);
    if (mode !== undefined) await chmod(file, mode);
  }

  /** Every path under `dir` with what it holds: a file's text, a symlink's target, or "dir". */
  async function snapshot(dir: string): Promise<Record<string, string>> {
    const entries: Record<string, string> = {};
    for (const name of await readdir(dir, { recursive: true })) {
      const path = join(dir, name);
      const info = await lstat(path);
      entries[name] = info.isSymbolicLink() ? `-> ${await readlink(path)}` : info.isDirectory() ? "dir" : await readFile(path, "utf8");
    }
    return entries;
  }

  async function assertRefusedAndUnchanged(paths: string[], message: RegExp): Promise<void> {
    const before = { checkout: await snapshot(checkout), elsewhere: await snapshot(elsewhere) };
    await assert.rejects(copyIntoCheckout(source, checkout, paths), { name: "CookError", code: "invalid", message });
    assert.deepEqual({ checkout: await snapshot(checkout), elsewhere: await snapshot(elsewhere) }, before);
  }

  it("copies files and whole folders to the same paths in the checkout, creating parent folders", async () => {
    await write(join(source, ".env"), "SECRET=1\n");
    await write(join(source, "config/local.json"), "{}\n");
    await write(join(source, "certs/dev/key.pem"), "key\n");
    await write(join(source, "certs/dev/sub/ca.pem"), "ca\n");

    const result = await copyIntoCheckout(source, checkout, [".env", "config/local.json", "certs"]);

    assert.deepEqual(result, { copied: [".env", "config/local.json", "certs"], missing: [] });
    assert.deepEqual(await snapshot(checkout), {
      ".env": "SECRET=1\n",
      "README.md": "tracked\n",
      certs: "dir",
      "certs/dev": "dir",
      "certs/dev/key.pem": "key\n",
      "certs/dev/sub": "dir",
      "certs/dev/sub/ca.pem": "ca\n",
      config: "dir",
      "config/local.json": "{}\n",
    });
  });

  it("keeps the permission bits of files and folders but drops setuid", async () => {
    await write(join(source, "bin/run.sh"), "#!/bin/sh\n", 0o4755);
    await write(join(source, "bin/private.key"), "key\n", 0o600);
    await chmod(join(source, "bin"), 0o750);

    await copyIntoCheckout(source, checkout, ["bin"]);

    assert.equal((await stat(join(checkout, "bin/run.sh"))).mode & 0o7777, 0o755);
    assert.equal((await stat(join(checkout, "bin/private.key"))).mode & 0o7777, 0o600);
    assert.equal((await stat(join(checkout, "bin"))).mode & 0o7777, 0o750);
  });

  it("copies into a read-only source folder's copy, setting the folder's mode last", async () => {
    await write(join(source, "ro/file"), "x\n", 0o444);
    await chmod(join(source, "ro"), 0o555);
    try {
      await copyIntoCheckout(source, checkout, ["ro"]);
      assert.equal(await readFile(join(checkout, "ro/file"), "utf8"), "x\n");
      assert.equal((await stat(join(checkout, "ro"))).mode & 0o777, 0o555);
    } finally {
      await chmod(join(source, "ro"), 0o755);
      await chmod(join(checkout, "ro"), 0o755).catch(() => {});
    }
  });

  it("reports paths the source does not have as missing and still copies the rest", async () => {
    await write(join(source, ".env"), "A=1\n");
    await symlink(join(source, "gone"), join(source, "dangling"));

    const result = await copyIntoCheckout(source, checkout, ["nope.json", ".env", "no/such/dir/file", "dangling", ".env/below-a-file"]);

    assert.deepEqual(result, { copied: [".env"], missing: ["nope.json", "no/such/dir/file", "dangling", ".env/below-a-file"] });
    assert.equal(await readFile(join(checkout, ".env"), "utf8"), "A=1\n");
  });

  it("reports a symlink to nothing inside a copied folder as missing", async () => {
    await write(join(source, "config/a.json"), "a\n");
    await symlink("gone.json", join(source, "config/b.json"));

    assert.deepEqual(await copyIntoCheckout(source, checkout, ["config"]), { copied: ["config"], missing: ["config/b.json"] });
    assert.deepEqual(await readdir(join(checkout, "config")), ["a.json"]);
  });

  it("replaces a file already in the checkout", async () => {
    await write(join(source, "README.md"), "copied\n");
    await copyIntoCheckout(source, checkout, ["README.md"]);
    assert.equal(await readFile(join(checkout, "README.md"), "utf8"), "copied\n");
  });

  it("replaces a symlink at the target path instead of writing through it", async () => {
    await write(join(source, ".env"), "A=1\n");
    await symlink(join(elsewhere, "secret"), join(checkout, ".env"));

    await copyIntoCheckout(source, checkout, [".env"]);

    assert.ok((await lstat(join(checkout, ".env"))).isFile());
    assert.equal(await readFile(join(checkout, ".env"), "utf8"), "A=1\n");
    assert.equal(await readFile(join(elsewhere, "secret"), "utf8"), "the server's own secret\n");
  });

  it("copies a symlink that stays inside the source folder as the file it points to", async () => {
    await write(join(source, "shared/base.env"), "BASE=1\n");
    await symlink("shared/base.env", join(source, ".env"));

    await copyIntoCheckout(source, checkout, [".env"]);

    assert.ok((await lstat(join(checkout, ".env"))).isFile());
    assert.equal(await readFile(join(checkout, ".env"), "utf8"), "BASE=1\n");
  });

  it("refuses '../x' and '/etc/passwd' before copying anything", async () => {
    await write(join(source, ".env"), "A=1\n");
    await assertRefusedAndUnchanged([".env", "../elsewhere/secret", "/etc/passwd"], /^cannot copy '\.\.\/elsewhere\/secret': it has a '\.\.' segment; cannot copy '\/etc\/passwd': it is absolute$/);
  });

  it("refuses paths into .git", async () => {
    await write(join(source, ".git/hooks/pre-commit"), "#!/bin/sh\n");
    await assertRefusedAndUnchanged([".git/hooks/pre-commit"], /it is a \.git folder or inside one/);
  });

  it("refuses a symlinked file in the source that points outside it, copying nothing", async () => {
    await write(join(source, "a.txt"), "a\n");
    await symlink(join(elsewhere, "secret"), join(source, ".env"));
    await assertRefusedAndUnchanged(["a.txt", ".env"], /^cannot copy '\.env': a symlink leads it out of the folder it is copied from$/);
  });

  it("refuses a symlinked folder in the source that points outside it, as the path or as its parent", async () => {
    await symlink(elsewhere, join(source, "config"));
    await assertRefusedAndUnchanged(["config"], /^cannot copy 'config': a symlink leads it out/);
    await assertRefusedAndUnchanged(["config/secret"], /^cannot copy 'config\/secret': a symlink leads it out/);
  });

  it("refuses a symlink deep inside a copied folder that points outside the source", async () => {
    await write(join(source, "config/a.json"), "a\n");
    await mkdir(join(source, "config/deep"));
    await symlink("../../../elsewhere/secret", join(source, "config/deep/leak"));
    await assertRefusedAndUnchanged(["config"], /^cannot copy 'config\/deep\/leak': a symlink leads it out/);
  });

  it("refuses a symlink loop in a copied folder", async () => {
    await write(join(source, "tree/a"), "a\n");
    await symlink("..", join(source, "tree/up"));
    await assertRefusedAndUnchanged(["tree"], /^cannot copy 'tree\/up\/tree': it is a symlink to a folder that contains it$/);
  });

  it("refuses a checkout whose config folder is a symlink to a folder outside it", async () => {
    await write(join(source, "config/local.json"), "{}\n");
    await symlink(elsewhere, join(checkout, "config"));
    await assertRefusedAndUnchanged(["config/local.json"], /^cannot copy 'config\/local\.json' into the checkout: 'config' there is a symlink that leads out of the checkout or into \.git$/);
    await assertRefusedAndUnchanged(["config"], /'config' there is a symlink that leads out of the checkout/);
  });

  it("refuses a checkout symlink that leads into its own .git folder", async () => {
    await mkdir(join(checkout, ".git/hooks"), { recursive: true });
    await symlink(".git/hooks", join(checkout, "tools"));
    await write(join(source, "tools/pre-commit"), "#!/bin/sh\n");
    await assertRefusedAndUnchanged(["tools/pre-commit"], /'tools' there is a symlink that leads out of the checkout or into \.git/);
  });

  it("follows a checkout symlink that stays inside the checkout", async () => {
    await mkdir(join(checkout, "real-config"));
    await symlink("real-config", join(checkout, "config"));
    await write(join(source, "config/local.json"), "{}\n");

    await copyIntoCheckout(source, checkout, ["config/local.json"]);

    assert.equal(await readFile(join(checkout, "real-config/local.json"), "utf8"), "{}\n");
  });

  it("refuses to put a file where the checkout has a folder, or a folder below a file", async () => {
    await write(join(source, "docs"), "a file\n");
    await write(join(source, "README.md/x"), "below\n");
    await mkdir(join(checkout, "docs"));
    await assertRefusedAndUnchanged(["docs"], /^cannot copy 'docs' into the checkout: it is a folder there$/);
    await assertRefusedAndUnchanged(["README.md/x"], /^cannot copy 'README\.md\/x' into the checkout: 'README\.md' there is not a folder$/);
  });

  it("refuses a source folder that does not exist", async () => {
    await assert.rejects(copyIntoCheckout(join(root, "none"), checkout, [".env"]), { code: "invalid", message: /the folder to copy from \(.*\/none\) is not a folder/ });
  });
});
