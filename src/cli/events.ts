import type { Command } from "commander";
import { CookError } from "../core/errors.js";
import type { Event } from "../events/event.js";
import { clientFor } from "./context.js";
import { formatEventLine, toSafeJson } from "./output.js";
import { parseIntegerOption } from "./parse.js";

interface EventsOptions {
  follow?: boolean;
  subject?: string;
  limit: number;
  json?: boolean;
}

export function registerEvents(program: Command): void {
  const events = program.command("events").description("the event log: print it, follow it, announce custom events");

  events
    .command("list", { isDefault: true })
    .description("print the event log, oldest first; --follow keeps printing new events (the default subcommand)")
    .option("-f, --follow", "keep printing events as they happen")
    .option("-s, --subject <pattern>", "only subjects matching this NATS pattern, e.g. 'cook.branch.myapp.>'")
    .option("-n, --limit <n>", "how many past events to print", parseIntegerOption("--limit", 0, 1000), 20)
    .option("--json", "print one JSON object per line")
    .action(async (options: EventsOptions, command: Command) => {
      const client = clientFor(command);
      const print = (event: Event) => process.stdout.write(`${options.json ? toSafeJson(event) : formatEventLine(event)}\n`);
      const past = options.limit > 0 ? await client.listEvents({ subject: options.subject, limit: options.limit }) : [];
      past.reverse().forEach(print);
      if (!options.follow) return;

      const after = past.at(-1)?.id ?? (await client.listEvents({ subject: options.subject, limit: 1 }))[0]?.id ?? 0;
      const stop = new AbortController();
      process.once("SIGINT", () => stop.abort());
      process.once("SIGTERM", () => stop.abort());
      await client.followEvents({ subject: options.subject, after }, print, stop.signal);
    });

  events
    .command("publish")
    .description("announce a custom event, cook.custom.<repo>.<name> (for CI and scripts)")
    .argument("<repo>", "the repo the event is about")
    .argument("<name>", "event name: lowercase letters, digits, '-' and '_'")
    .option("-b, --branch <branch>", "the branch the event is about")
    .option("-d, --data <json>", "JSON data to attach")
    .option("--json", "print the recorded event as JSON")
    .action(async (repo: string, name: string, options: { branch?: string; data?: string; json?: boolean }, command: Command) => {
      let data: unknown;
      if (options.data !== undefined) {
        try {
          data = JSON.parse(options.data);
        } catch {
          throw new CookError("invalid", `--data is not valid JSON: ${options.data}`);
        }
      }
      const event = await clientFor(command).announceEvent({ repo, name, branch: options.branch, data });
      process.stdout.write(`${options.json ? toSafeJson(event) : formatEventLine(event)}\n`);
    });
}
