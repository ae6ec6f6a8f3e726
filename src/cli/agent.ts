import { open } from "node:fs/promises";
import type { Command } from "commander";
import { agentKinds, isAgentKind, type AgentEvent } from "../core/agent-event.js";
import { CookError } from "../core/errors.js";
import { formatAgentEventLine, toSafeJson } from "./output.js";

export function registerAgent(program: Command): void {
  const agent = program.command("agent").description("coding agents: tools for their output");

  agent
    .command("parse")
    .description("parse an agent CLI's recorded output into Cook's agent events, locally (no server)")
    .argument("<agent>", `the agent kind: ${agentKinds.join(", ")}`)
    .argument("[file]", "the recorded stdout, one line per event; '-' or none reads standard input")
    .option("--json", "print one JSON object per event")
    .action(async (kind: string, file: string | undefined, options: { json?: boolean }) => {
      if (!isAgentKind(kind)) throw new CookError("invalid", `unknown agent '${kind}': the kinds are ${agentKinds.join(", ")}`);
      const input = file === undefined || file === "-" ? process.stdin : await openFile(file);
      // Loaded here, not at start-up: the parsers are a tenth of the start of every other command.
      const [{ parserFor }, { streamLines }] = await Promise.all([import("../agents/parsers/index.js"), import("../agents/stream-lines.js")]);
      const parser = parserFor(kind);
      const print = (events: AgentEvent[]) => {
        for (const event of events) process.stdout.write(`${options.json ? toSafeJson(event) : formatAgentEventLine(event)}\n`);
      };
      for await (const line of streamLines(input)) print(parser.line(line));
      print(parser.end());
    });
}

/** The file as a stream, once it is known to be a readable file: a missing one is one line on stderr, not a stack. */
async function openFile(path: string): Promise<AsyncIterable<Buffer>> {
  const refuse = (err: NodeJS.ErrnoException): never => {
    throw new CookError(err.code === "ENOENT" ? "not_found" : "invalid", err.code === "ENOENT" ? `no such file: ${path}` : `cannot read ${path}: ${err.code ?? err.message}`);
  };
  const handle = await open(path, "r").catch(refuse);
  const info = await handle.stat();
  if (info.isDirectory()) {
    await handle.close();
    throw new CookError("invalid", `${path} is a directory, not a file`);
  }
  return handle.createReadStream();
}
