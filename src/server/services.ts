import type { ServerConfig } from "../config/server-config.js";
import { packageVersion } from "../config/package-root.js";
import type { Db } from "../db/db.js";
import { instanceId } from "../db/event-store.js";
import { openDatabase } from "../db/open.js";
import type { Bus, Subscription } from "../events/bus.js";
import type { AgentSettings } from "../config/agent-config.js";
import type { LiveRun } from "../agents/deps.js";
import { createAgentEventWriter, type AgentEventWriter } from "../agents/event-writer.js";
import { recoverSessions, stopAllRuns } from "../agents/recover-sessions.js";
import { startAgentFromPush } from "../agents/start-from-push.js";
import { trackPushes } from "../branches/track-pushes.js";
import { createDatabaseServer, type DatabaseServer } from "../environments/database-server.js";
import type { EnvironmentSettings } from "../environments/deps.js";
import { createDiskUse, type DiskUse } from "../environments/disk-use.js";
import { recoverEnvironments } from "../environments/recover-environments.js";
import { createEventLog, type EventLog } from "../events/event-log.js";
import { createLocalBus } from "../events/local-bus.js";
import { createNatsBus } from "../events/nats-bus.js";
import { createOutboxRelay, type OutboxRelay } from "../events/outbox-relay.js";
import { loadHookSecret } from "../forge/hooks.js";
import { refreshHooks } from "../forge/repos.js";
import { createGit, type Git } from "../git/git.js";
import type { Logger } from "./logger.js";
import { createRenderer, type Renderer } from "./render/renderer.js";
import { createGitSpawner, type GitSpawner } from "../git/spawner.js";
import { createGateRuntime, type GateRuntime, type GateSettings } from "../gates/deps.js";
import { autoMergeOnPass } from "../gates/merge.js";
import { recoverGateRuns } from "../gates/recover-gates.js";
import { recoverMerges } from "../gates/recover-merges.js";
import { stopAllGateRuns } from "../gates/run-queue.js";
import { loadDefaultGates } from "../gates/target-gates.js";
import { trackGatedPushes } from "../gates/track-gates.js";
import { mergeParentsOnClose } from "../gates/parent-merge.js";
import { startAutopilot, type Autopilot } from "../autopilot/autopilot.js";
import { recoverDispatches, resumeAutopilotSessions } from "../autopilot/recover-dispatches.js";
import { startAutomations, type Automations } from "../automations/automations.js";
import { recoverPlans, stopAllPlanners } from "../planning/plans.js";
import { forgetCookToml } from "../forge/default-cook-toml.js";

/** Everything the routes need, built once at start-up and handed down. */
export interface Services {
  readonly config: ServerConfig;
  readonly log: Logger;
  readonly version: string;
  readonly db: Db;
  readonly bus: Bus;
  readonly relay: OutboxRelay;
  readonly events: EventLog;
  readonly git: Git;
  /** Starts git for smart HTTP from a small process of its own (git/spawner.ts). */
  readonly spawner: GitSpawner;
  /** Highlighting and markdown, in worker threads with limits (render/renderer.ts). */
  readonly render: Renderer;
  readonly dataDir: string;
  /** Hooks call back here; known once the server listens. */
  readonly hooks: { url(): string; secret: string; setUrl(url: string): void };
  /** The factory as hooks and environments reach it: the same loopback URL and secret as the hooks'. */
  readonly factory: { url(): string; secret: string };
  readonly environmentSettings: EnvironmentSettings;
  /** Where environments' databases are made: the configured PostgreSQL, or one Cook runs itself. */
  readonly databaseServer: DatabaseServer;
  /** Setup scripts and commands running in environments now (environments/deps.ts). */
  readonly running: Map<string, Set<AbortController>>;
  /** `[agents.*]`, `[prices]`, `[budgets]` of the server config. */
  readonly agentSettings: AgentSettings;
  /** The agent a session runs when none is named (`[defaults] agent`). */
  readonly defaultAgent: string;
  /** Stores agent events in shared transactions (agents/event-writer.ts). */
  readonly agentWriter: AgentEventWriter;
  /** Agent runs going on now, by session id (agents/deps.ts). */
  readonly liveRuns: Map<string, LiveRun>;
  /** Rate-limited sessions waiting to resume, by session id. */
  readonly resumeTimers: Map<string, NodeJS.Timeout>;
  /** Disk use of environments, measured in the background for the Branches page. */
  readonly diskUse: DiskUse;
  /** `[gates]` of the server config, with the default gates read. */
  readonly gateSettings: GateSettings;
  /** Gate runs executing and queued, and the merge queues (gates/deps.ts). */
  readonly gateRuntime: GateRuntime;
  /** Autopilot's dispatcher, once background work has started (autopilot/autopilot.ts). */
  readonly autopilot: { poke(repo: string): void };
  /** Starts what works in the background: the push tracker, and the check of environments against the disk. */
  startBackgroundWork(): Promise<void>;
  close(): Promise<void>;
}

export async function openServices(config: ServerConfig, log: Logger): Promise<Services> {
  const gateSettings: GateSettings = { concurrency: config.gates.concurrency, defaultGates: loadDefaultGates(config.gates.defaultsFile) };
  const db = await openDatabase(config);
  let bus: Bus;
  try {
    bus = config.natsUrl
      ? await createNatsBus({
          url: config.natsUrl,
          instanceId: await instanceId(db),
          onError: (err, context) => log.warn({ err, context }, "nats"),
        })
      : createLocalBus({ db, onHandlerError: (err, event, pattern) => log.error({ err, subject: event.subject, pattern }, "event handler failed") });
  } catch (err) {
    await db.close();
    throw err;
  }

  let lastRelayWarning = 0;
  const relay = createOutboxRelay({
    db,
    bus,
    onError: (err) => {
      // An outage makes every retry fail; one warning every 30 s is enough to see it in the log.
      if (Date.now() - lastRelayWarning < 30_000) return;
      lastRelayWarning = Date.now();
      log.warn({ err: String((err as Error).message ?? err) }, "outbox relay cannot publish; events wait in the outbox");
    },
  });
  const events = createEventLog(() => relay.poke());
  relay.start();

  const git = createGit();
  const spawner = createGitSpawner();
  const render = createRenderer({ onGiveUp: (job, reason) => log.warn({ job, reason }, "render gave up; shown as plain text") });
  const dataDir = config.server.dataDir;
  const refreshed = refreshHooks({ dataDir });
  if (refreshed > 0) log.info({ repos: refreshed }, "installed current hooks into repos");
  let hookUrl = "";
  const hooks = {
    url: () => hookUrl,
    secret: loadHookSecret(dataDir),
    setUrl: (url: string) => void (hookUrl = url),
  };
  let pushTracking: Subscription | undefined;
  let gateTracking: Subscription | undefined;
  let parentMerges: Subscription | undefined;
  let autopilot: Autopilot | undefined;
  let automations: Automations | undefined;
  let cookTomlWatch: Subscription | undefined;

  const services: Services = {
    config,
    log,
    version: packageVersion(),
    db,
    bus,
    relay,
    events,
    git,
    spawner,
    render,
    dataDir,
    hooks,
    factory: hooks,
    environmentSettings: config.environments,
    databaseServer: createDatabaseServer({ settings: config.environments, dataDir, db, log }),
    running: new Map(),
    agentSettings: config.agents,
    defaultAgent: config.defaults.agent,
    agentWriter: createAgentEventWriter({ db, events }),
    liveRuns: new Map(),
    resumeTimers: new Map(),
    diskUse: createDiskUse(),
    gateSettings,
    gateRuntime: createGateRuntime(),
    autopilot: { poke: (repo) => autopilot?.poke(repo) },
    async startBackgroundWork() {
      await recoverEnvironments(services);
      const interrupted = await recoverSessions(services);
      await recoverMerges(services);
      services.gateRuntime.ended.add(autoMergeOnPass(services));
      await recoverGateRuns(services);
      pushTracking = await trackPushes(services, bus, log, (branch, options, pusher) => startAgentFromPush(services, branch, options, pusher));
      gateTracking = await trackGatedPushes(services, bus);
      parentMerges = await mergeParentsOnClose(services, bus);
      await recoverDispatches(services);
      await recoverPlans(services);
      await resumeAutopilotSessions(services, interrupted);
      // Before autopilot and automations subscribe: a push to the default branch is seen by them with its cook.toml.
      cookTomlWatch = await bus.subscribe("cook.*.>", (event) => {
        if (event.type.startsWith("branch.") || event.type.startsWith("repo.")) forgetCookToml(services.dataDir, event.repo);
      });
      autopilot = await startAutopilot(services, bus);
      automations = await startAutomations(services, bus);
    },
    async close() {
      await automations?.stop();
      await autopilot?.stop();
      await stopAllPlanners();
      await cookTomlWatch?.unsubscribe();
      await stopAllGateRuns(services);
      await gateTracking?.unsubscribe();
      await parentMerges?.unsubscribe();
      await stopAllRuns(services);
      for (const aborts of services.running.values()) for (const abort of aborts) abort.abort();
      await pushTracking?.unsubscribe();
      git.close();
      await spawner.close();
      await render.close();
      await relay.stop();
      await bus.close();
      await services.databaseServer.close();
      await db.close();
    },
  };
  return services;
}
