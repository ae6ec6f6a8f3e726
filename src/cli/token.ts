import type { Command } from "commander";
import { clientFor } from "./context.js";
import { printJson, printLine, printTable } from "./output.js";
import { parseIntegerOption } from "./parse.js";

const day = (iso: string | undefined) => (iso ? iso.slice(0, 10) : "-");

export function registerToken(program: Command): void {
  const token = program.command("token").description("API and git tokens (admin only)");

  token
    .command("create")
    .description("create a token and print its secret, once")
    .requiredOption("--scope <scope>", "admin, user or agent:<repo>/<branch>")
    .option("--name <name>", "a name to recognise it by in `cook token list`")
    .option("--json", "print JSON")
    .action(async (options: { scope: string; name?: string; json?: boolean }, command: Command) => {
      const created = await clientFor(command).createToken({ scope: options.scope, name: options.name });
      if (options.json) return printJson(created);
      printLine(created.secret);
      printLine(`token ${created.token.id} '${created.token.name}' (${created.token.scope}); the secret above is not shown again`, process.stderr);
    });

  token
    .command("list")
    .description("list tokens (never their secrets)")
    .option("--json", "print JSON")
    .action(async (options: { json?: boolean }, command: Command) => {
      const tokens = await clientFor(command).listTokens();
      if (options.json) return printJson(tokens);
      printTable(
        ["ID", "NAME", "SCOPE", "CREATED", "LAST USED", "REVOKED"],
        tokens.map((t) => [String(t.id), t.name, t.scope, day(t.createdAt), day(t.lastUsedAt), day(t.revokedAt)]),
      );
    });

  token
    .command("revoke")
    .description("revoke a token: it stops working at once")
    .argument("<id>", "the token's id (from cook token list)", parseIntegerOption("id", 1))
    .action(async (id: number, _options: unknown, command: Command) => {
      const revoked = await clientFor(command).revokeToken(id);
      printLine(`revoked token ${revoked.id} '${revoked.name}'`);
    });
}
