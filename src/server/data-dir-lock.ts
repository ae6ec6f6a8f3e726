import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CookError } from "../core/errors.js";

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * One `cook serve` per data dir: the embedded database and the repos are not safe to share
 * between two servers. A lock left by a process that died is taken over. The data dir holds the
 * database, the hook secret and every repo, so it is made (or tightened to) 0700.
 */
export function lockDataDir(dataDir: string): () => void {
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    // A data dir made by an older version (or by hand) is tightened too.
    for (const dir of [dataDir, join(dataDir, "db"), join(dataDir, "repos"), join(dataDir, "trash")]) {
      if (existsSync(dir)) chmodSync(dir, 0o700);
    }
  } catch (err) {
    throw new CookError("invalid", `cannot use data dir ${dataDir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const file = join(dataDir, "serve.pid");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: "wx" });
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new CookError("unavailable", `cannot write to data dir ${dataDir}: ${(err as Error).message}`);
      }
      const holder = Number(readFileSync(file, "utf8").trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isRunning(holder)) {
        throw new CookError("conflict", `another cook serve (pid ${holder}) is using ${dataDir}; stop it or choose another data dir`);
      }
      rmSync(file, { force: true });
    }
  }
  throw new CookError("conflict", `cannot lock ${dataDir}: ${file} keeps coming back`);
}
