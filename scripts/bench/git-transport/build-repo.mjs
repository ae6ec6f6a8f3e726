#!/usr/bin/env node
// Builds the git-transport benchmark repository, reproducibly, with `git fast-import`:
//
//   * its files are real source text: the .js/.mjs/.cjs/.ts/.mts/.cts/.md files installed under
//     node_modules (minified files left out), in sorted order;
//   * 10,000 commits on main (plus 10 feature branches of 8 commits and 40 annotated tags) add those
//     files a few at a time and edit them: each edit replaces a range of lines with a block of lines
//     of another file of the same kind, deletes a range, or rewrites a few lines. The blocks are what
//     make the history big: they are stored as delta literals, so the pack grows with every commit;
//   * a folder `generated/strings/` of 5,000 entries (4,950 files, 50 folders) for the tree page;
//   * fixed names and dates and a seeded PRNG: the same script and the same node_modules give the
//     same commit ids.
//
// The result is cached under $TMPDIR/cook-bench-repo-<hash> (hash of this script, the corpus and the
// parameters), so later runs reuse it; `git repack -a -d -f` and `git gc` pack it (one pack with a
// bitmap, as on a well-kept bare repo): the size reported is that pack's.
//
//   node scripts/bench/git-transport/build-repo.mjs            builds (or finds) it, prints its path
//   BENCH_REPO_COMMITS=1000 ...                                 a smaller history (calibration)
//   BENCH_REPO_FORCE=1 ...                                      rebuild even if cached
import { spawn, execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(here, "..", "..", "..");

export const params = {
  commits: Number(process.env.BENCH_REPO_COMMITS || 10_000),
  seed: 0x5eed_c00c,
  corpusDir: process.env.BENCH_CORPUS_DIR || join(repoRoot, "node_modules"),
  featureBranches: 10,
  commitsPerBranch: 8,
  tagEvery: 250,
  generatedFiles: 4_950,
  generatedFolders: 50,
  /** Mean number of lines of a block copied in by one edit (the knob for the pack's size). */
  blockLines: Number(process.env.BENCH_REPO_BLOCK_LINES || 250),
  /** Files edited by one commit: at least, at most. */
  editsPerCommit: [1, 4],
  maxFileLines: 3_000,
};

const startDate = 1_577_836_800; // 2020-01-01T00:00:00Z
const people = [
  ["Ada Lovelace", "ada@example.com"],
  ["Alan Turing", "alan@example.com"],
  ["Grace Hopper", "grace@example.com"],
  ["Edsger Dijkstra", "edsger@example.com"],
  ["Barbara Liskov", "barbara@example.com"],
  ["Donald Knuth", "don@example.com"],
  ["Frances Allen", "fran@example.com"],
  ["Ken Thompson", "ken@example.com"],
];

/** sfc32: small, fast, and the same sequence on every machine. */
function prng(seed) {
  let a = 0x9e3779b9, b = 0x243f6a88, c = 0xb7e15162, d = seed >>> 0;
  const next = () => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    const t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    const r = (t + d) | 0;
    c = (c + r) | 0;
    return (r >>> 0) / 4294967296;
  };
  for (let i = 0; i < 20; i++) next();
  return {
    next,
    int: (n) => Math.floor(next() * n),
    range: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (array) => array[Math.floor(next() * array.length)],
  };
}

const sourceExt = /\.(js|mjs|cjs|ts|mts|cts|md)$/;
const safePath = /^[A-Za-z0-9._@+\/-]+$/;

/** The corpus: every usable text file under corpusDir, sorted by path. */
export function collectCorpus(corpusDir = params.corpusDir) {
  const files = [];
  const walk = (dir) => {
    const entries = readdirSync(dir, { withFileTypes: true }).sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== ".bin" && entry.name !== ".cache") walk(path);
      } else if (entry.isFile() && sourceExt.test(entry.name)) {
        const rel = relative(corpusDir, path);
        if (!safePath.test(rel)) continue;
        const size = statSync(path).size;
        if (size < 256 || size > 200_000) continue;
        const buffer = readFileSync(path);
        if (buffer.includes(0)) continue;
        const text = buffer.toString("utf8");
        if (text.includes("\uFFFD")) continue;
        const lines = text.replace(/\r\n/g, "\n").split("\n");
        // Minified bundles are one endless line: not what anyone edits line by line.
        if (lines.some((line) => line.length > 1000)) continue;
        files.push({ rel, ext: /\.(\w+)$/.exec(rel)[1], lines, bytes: buffer.length });
      }
    }
  };
  walk(corpusDir);
  return files;
}

function corpusFingerprint(corpus) {
  const hash = createHash("sha256");
  for (const file of corpus) hash.update(`${file.rel}\0${file.lines.join("\n")}\0`);
  return hash.digest("hex");
}

export function cacheKey(corpus) {
  const hash = createHash("sha256");
  hash.update(readFileSync(fileURLToPath(import.meta.url)));
  hash.update(JSON.stringify({ ...params, corpusDir: undefined }));
  hash.update(corpusFingerprint(corpus));
  hash.update(execFileSync("git", ["--version"], { encoding: "utf8" }));
  return hash.digest("hex").slice(0, 16);
}

export function cacheDirFor(key) {
  return join(process.env.TMPDIR || tmpdir(), `cook-bench-repo-${key}`);
}

/** Where a node_modules path lands in the repo: `node_modules` segments become `deps`. */
function repoPathOf(rel) {
  return `deps/${rel.split("/").map((part) => (part === "node_modules" ? "deps" : part)).join("/")}`;
}

/** Streams a fast-import script into git, respecting back-pressure. */
class FastImport {
  constructor(gitDir) {
    this.child = spawn("git", ["--git-dir", gitDir, "fast-import", "--quiet", "--done", "--depth=50"], { stdio: ["pipe", "inherit", "inherit"], env: gitEnv() });
    this.exited = new Promise((resolve, reject) => {
      this.child.on("error", reject);
      this.child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`git fast-import exited with ${code}`))));
    });
    this.parts = [];
    this.size = 0;
    this.bytes = 0;
  }
  push(part) {
    const buffer = typeof part === "string" ? Buffer.from(part, "utf8") : part;
    this.parts.push(buffer);
    this.size += buffer.length;
    this.bytes += buffer.length;
  }
  data(text) {
    const buffer = Buffer.from(text, "utf8");
    this.push(`data ${buffer.length}\n`);
    this.push(buffer);
    this.push("\n");
  }
  async flush(force = false) {
    if (!force && this.size < 1 << 20) return;
    const chunk = Buffer.concat(this.parts);
    this.parts = [];
    this.size = 0;
    if (!this.child.stdin.write(chunk)) await Promise.race([once(this.child.stdin, "drain"), this.exited]);
  }
  async end() {
    this.push("done\n");
    await this.flush(true);
    this.child.stdin.end();
    await this.exited;
  }
}

export function gitEnv(extra = {}) {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith("GIT_") && !key.startsWith("COOK_")) env[key] = value;
  return { ...env, LANG: "C", GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", GIT_TERMINAL_PROMPT: "0", ...extra };
}

/** Writes the whole history into the (empty, bare) gitDir. Returns counts. */
async function writeHistory(gitDir, corpus, log) {
  const rng = prng(params.seed);
  const fi = new FastImport(gitDir);
  const byExt = new Map();
  corpus.forEach((file, index) => {
    const group = file.ext === "md" ? "md" : /ts$/.test(file.ext) ? "ts" : "js";
    if (!byExt.has(group)) byExt.set(group, []);
    byExt.get(group).push(index);
  });
  const groupOf = (path) => (path.endsWith(".md") ? "md" : /\.(ts|mts|cts)$/.test(path) ? "ts" : "js");

  // The order files are added in: a seeded shuffle of the sorted corpus.
  const order = corpus.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  let nextToAdd = 0;

  let mark = 0;
  let commits = 0;
  let time = startDate;
  const stats = { added: 0, edited: 0, deleted: 0, blockLines: 0 };

  /** A copied block: `count` lines of a corpus file of the same kind as `path`, from a random offset. */
  const block = (path, count) => {
    const lines = [];
    while (lines.length < count) {
      // From one or more files of the same kind, each from a random offset.
      const source = corpus[rng.pick(byExt.get(groupOf(path)) ?? byExt.get("js"))];
      const want = count - lines.length;
      const start = rng.int(Math.max(1, source.lines.length - want));
      lines.push(...source.lines.slice(start, start + want));
    }
    stats.blockLines += lines.length;
    return lines;
  };

  /** One edit of a file: returns a new array (branches share the arrays of main). */
  const edit = (path, lines) => {
    const out = lines.slice();
    const roll = rng.next();
    if (out.length > params.maxFileLines) {
      const count = rng.range(200, Math.min(800, out.length - 50));
      out.splice(rng.int(out.length - count), count);
      return { lines: out, what: `trim ${count} lines` };
    }
    if (roll < 0.7) {
      const count = Math.max(3, Math.round(params.blockLines * (0.2 + 1.6 * rng.next())));
      const at = rng.int(out.length + 1);
      const remove = Math.min(out.length - at, rng.int(Math.round(count * 1.1)));
      out.splice(at, remove, ...block(path, count));
      return { lines: out, what: `rework ${remove > 0 ? `lines ${at + 1}-${at + remove}` : `at line ${at + 1}`}` };
    }
    if (roll < 0.85) {
      const count = Math.min(out.length - 1, rng.range(1, 40));
      const at = rng.int(Math.max(1, out.length - count));
      out.splice(at, count);
      return { lines: out, what: `drop ${count} lines` };
    }
    const count = rng.range(1, 6);
    for (let i = 0; i < count; i++) {
      const at = rng.int(out.length);
      out[at] = block(path, 1)[0] ?? "";
    }
    return { lines: out, what: `touch ${count} lines` };
  };

  const emitCommit = (ref, from, message, changes) => {
    const [name, email] = rng.pick(people);
    time += rng.range(60, 5400);
    mark++;
    commits++;
    fi.push(`commit ${ref}\nmark :${mark}\nauthor ${name} <${email}> ${time} +0000\ncommitter ${name} <${email}> ${time} +0000\n`);
    fi.data(message);
    if (from) fi.push(`from :${from}\n`);
    for (const change of changes) {
      if (change.delete) fi.push(`D ${change.path}\n`);
      else {
        fi.push(`M 100644 inline ${change.path}\n`);
        fi.data(change.text);
      }
    }
    fi.push("\n");
    return mark;
  };

  const textOf = (lines) => (lines.length && lines[lines.length - 1] !== "" ? `${lines.join("\n")}\n` : lines.join("\n"));

  /** One ordinary commit against `tree` (a Map path → lines, mutated): adds, edits, maybe a delete. */
  const workCommit = (tree, paths, index, total, allowAdd) => {
    const changes = [];
    const notes = [];
    const addRate = corpus.length / Math.max(1, total * 0.85);
    let adds = allowAdd ? Math.floor(addRate) + (rng.next() < addRate % 1 ? 1 : 0) : 0;
    while (adds-- > 0 && nextToAdd < order.length) {
      const file = corpus[order[nextToAdd++]];
      const path = repoPathOf(file.rel);
      tree.set(path, file.lines);
      paths.push(path);
      changes.push({ path, text: textOf(file.lines) });
      notes.push(`Add ${path}`);
      stats.added++;
    }
    const edits = paths.length === 0 ? 0 : rng.range(params.editsPerCommit[0], params.editsPerCommit[1]);
    const touched = new Set(changes.map((c) => c.path));
    for (let i = 0; i < edits; i++) {
      const path = paths[rng.int(paths.length)];
      if (touched.has(path)) continue;
      touched.add(path);
      const result = edit(path, tree.get(path));
      tree.set(path, result.lines);
      changes.push({ path, text: textOf(result.lines) });
      notes.push(`${path}: ${result.what}`);
      stats.edited++;
    }
    if (rng.next() < 0.01) {
      // Regenerate a few of the generated strings.
      for (let i = rng.range(1, 3); i > 0; i--) {
        const n = rng.int(params.generatedFiles);
        const path = generatedPath(n);
        changes.push({ path, text: generatedText(n, block("x.ts", 3)) });
        notes.push(`Regenerate ${path}`);
      }
    }
    if (rng.next() < 0.004 && paths.length > 100) {
      const at = rng.int(paths.length);
      const path = paths[at];
      if (!touched.has(path)) {
        paths.splice(at, 1);
        tree.delete(path);
        changes.push({ path, delete: true });
        notes.push(`Remove ${path}`);
        stats.deleted++;
      }
    }
    const first = notes[0] ?? "Tidy up";
    const subject = notes.length > 1 ? `${first} (and ${notes.length - 1} more)` : first;
    return { changes, message: `${subject}\n\n${notes.map((n) => `- ${n}`).join("\n")}\n\nChange ${index + 1} of ${total}.\n` };
  };

  const generatedPath = (n) => (n < params.generatedFiles ? `generated/strings/s-${String(n).padStart(4, "0")}.ts` : `generated/strings/group-${String(n - params.generatedFiles).padStart(2, "0")}/index.ts`);
  const generatedText = (n, lines) => `// Generated: do not edit.\nexport const s${n} = ${JSON.stringify(lines.join(" ").slice(0, 200))};\n`;

  const total = params.commits;
  const tree = new Map();
  const paths = [];
  let head = 0;
  const branchEvery = Math.floor(total / params.featureBranches);
  for (let i = 0; i < total; i++) {
    const { changes, message } = workCommit(tree, paths, i, total, true);
    if (i === 0) {
      changes.unshift({ path: "README.md", text: "# bench\n\nA history built from the text of npm packages, for Cook's git transport benchmarks.\n" });
    }
    if (i === Math.min(100, total - 1)) {
      // The 5,000-entry folder: 4,950 files and 50 folders, made by one generator run.
      for (let n = 0; n < params.generatedFiles + params.generatedFolders; n++) changes.push({ path: generatedPath(n), text: generatedText(n, block("x.ts", 3)) });
    }
    head = emitCommit("refs/heads/main", head || undefined, message, changes);
    await fi.flush();

    if ((i + 1) % params.tagEvery === 0) {
      const [name, email] = people[((i + 1) / params.tagEvery) % people.length];
      const tag = `v0.${(i + 1) / params.tagEvery}.0`;
      fi.push(`tag ${tag}\nfrom :${head}\ntagger ${name} <${email}> ${time} +0000\n`);
      fi.data(`Release ${tag}\n`);
    }
    if (i % branchEvery === Math.floor(branchEvery / 2) && i / branchEvery < params.featureBranches) {
      const k = Math.floor(i / branchEvery);
      const branchTree = new Map(tree);
      const branchPaths = paths.slice();
      let tip = head;
      for (let j = 0; j < params.commitsPerBranch; j++) {
        const work = workCommit(branchTree, branchPaths, j, params.commitsPerBranch, false);
        tip = emitCommit(`refs/heads/feature/topic-${String(k).padStart(2, "0")}`, tip, work.message, work.changes);
      }
      await fi.flush();
    }
    if ((i + 1) % 1000 === 0) log?.(`  build: ${i + 1}/${total} commits, ${(fi.bytes / 2 ** 20).toFixed(0)} MiB streamed`);
  }
  await fi.end();
  return { commits, files: paths.length + params.generatedFiles + params.generatedFolders + 1, ...stats };
}

function sh(args, options = {}) {
  return execFileSync("git", args, { encoding: "utf8", env: gitEnv(), maxBuffer: 256 << 20, ...options });
}

/** `git count-objects -vH`'s size-pack of gitDir, in MB (10^6 bytes). */
export function packSizeMB(gitDir) {
  const out = sh(["--git-dir", gitDir, "count-objects", "-v"]);
  const kib = Number(/^size-pack: (\d+)/m.exec(out)[1]);
  return (kib * 1024) / 1e6;
}

/**
 * The cached repository, built if it is not there. Returns { gitDir, meta, cached }.
 * meta: { key, commits, files, sizePackMB, buildMs, ... } as written when it was built.
 */
export async function ensureRepo({ log = (line) => process.stderr.write(`${line}\n`), force = process.env.BENCH_REPO_FORCE === "1" } = {}) {
  const corpus = collectCorpus();
  if (corpus.length < 500) throw new Error(`only ${corpus.length} usable source files under ${params.corpusDir}: run npm ci first`);
  const key = cacheKey(corpus);
  const dir = cacheDirFor(key);
  const gitDir = join(dir, "repo.git");
  const metaFile = join(dir, "meta.json");
  if (!force && existsSync(metaFile)) return { gitDir, meta: JSON.parse(readFileSync(metaFile, "utf8")), cached: true };

  rmSync(dir, { recursive: true, force: true });
  const building = `${dir}.building-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  mkdirSync(building, { recursive: true });
  const started = performance.now();
  const tmpGit = join(building, "repo.git");
  sh(["init", "--bare", "--quiet", "--initial-branch=main", tmpGit]);
  sh(["--git-dir", tmpGit, "config", "repack.writeBitmaps", "true"]);
  sh(["--git-dir", tmpGit, "config", "gc.auto", "0"]);
  log(`  build: ${corpus.length} corpus files (${(corpus.reduce((s, f) => s + f.bytes, 0) / 1e6).toFixed(1)} MB) from ${params.corpusDir}; ${params.commits} commits into ${dir}`);
  let counts;
  try {
    counts = await writeHistory(tmpGit, corpus, log);
  } catch (err) {
    rmSync(building, { recursive: true, force: true });
    throw err;
  }
  const importMs = performance.now() - started;
  // fast-import deltas each blob only against the blob streamed just before it (another file, here):
  // a full repack finds the real bases, as `git gc --aggressive` would on any long-lived repo.
  log(`  build: fast-import done in ${(importMs / 1000).toFixed(1)} s; git repack -a -d -f, git gc`);
  sh(["--git-dir", tmpGit, "repack", "-a", "-d", "-f", "--depth=50", "--window=10", "-q"]);
  sh(["--git-dir", tmpGit, "gc", "--prune=now", "--quiet"]);
  const buildMs = performance.now() - started;
  const meta = {
    key,
    builtAt: new Date().toISOString(),
    buildMs: Math.round(buildMs),
    importMs: Math.round(importMs),
    gcMs: Math.round(buildMs - importMs),
    commits: Number(sh(["--git-dir", tmpGit, "rev-list", "--all", "--count"]).trim()),
    branches: sh(["--git-dir", tmpGit, "for-each-ref", "refs/heads/"]).trim().split("\n").length,
    tags: sh(["--git-dir", tmpGit, "for-each-ref", "refs/tags/"]).trim().split("\n").length,
    objects: Number(/^in-pack: (\d+)/m.exec(sh(["--git-dir", tmpGit, "count-objects", "-v"]))[1]),
    sizePackMB: Math.round(packSizeMB(tmpGit) * 10) / 10,
    headFiles: sh(["--git-dir", tmpGit, "ls-tree", "-r", "--name-only", "main"]).split("\n").filter(Boolean).length,
    head: sh(["--git-dir", tmpGit, "rev-parse", "main"]).trim(),
    corpusFiles: corpus.length,
    ...counts,
    params: { ...params, corpusDir: undefined },
  };
  writeFileSync(join(building, "meta.json"), `${JSON.stringify(meta, null, 2)}\n`);
  renameSync(building, dir);
  log(`  build: ${meta.commits} commits, ${meta.objects} objects, size-pack ${meta.sizePackMB} MB, in ${(buildMs / 1000).toFixed(1)} s`);
  return { gitDir, meta, cached: false };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { gitDir, meta, cached } = await ensureRepo();
  console.log(`${cached ? "cached" : "built"}: ${gitDir}`);
  console.log(`  ${meta.commits} commits, ${meta.branches} branches, ${meta.tags} tags, ${meta.objects} objects, ${meta.headFiles} files at main`);
  console.log(`  size-pack ${meta.sizePackMB} MB; build took ${(meta.buildMs / 1000).toFixed(1)} s (fast-import ${(meta.importMs / 1000).toFixed(1)} s, gc ${(meta.gcMs / 1000).toFixed(1)} s)${cached ? " when it was built" : ""}`);
}
