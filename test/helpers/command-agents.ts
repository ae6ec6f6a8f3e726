import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Server config for `command` agents, one per script (written to a temp folder as `<name>.sh`):
 * each runs with the prompt as its last argument, and each line it prints becomes a message.
 * `before` goes first (`[defaults] agent = …`, `[budgets]` …).
 */
export function commandAgentsConfig(scripts: Record<string, string>, before = ""): string {
  const dir = mkdtempSync(join(tmpdir(), "cook-agents-"));
  let config = before;
  for (const [name, script] of Object.entries(scripts)) {
    const file = join(dir, `${name}.sh`);
    writeFileSync(file, script);
    chmodSync(file, 0o755);
    config += `[agents.${name}]\nkind = "command"\ncommand = "${file}"\n`;
  }
  return config;
}
