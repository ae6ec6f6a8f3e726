import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packageRoot } from "../../src/config/package-root.js";
import type { AgentKind } from "../../src/core/agent-event.js";

/**
 * The real agent CLIs, installed by scripts/install-agent-clis.sh into test/agent-clis (not a
 * dependency of Cook itself), and how to point each at the scripted model server
 * (test/fixtures/model-server) with nothing leaving the machine.
 */
export type AgentCli = Extract<AgentKind, "claude" | "codex" | "gemini" | "opencode">;
export const agentClis: readonly AgentCli[] = ["claude", "codex", "gemini", "opencode"];

const packageNames: Record<AgentCli, string> = {
  claude: "@anthropic-ai/claude-code",
  codex: "@openai/codex",
  gemini: "@google/gemini-cli",
  opencode: "opencode-ai",
};

export const agentClisDir = join(packageRoot(), "test", "agent-clis");

/** Absolute path of a CLI's executable. */
export function agentCliPath(cli: AgentCli): string {
  return join(agentClisDir, "node_modules", ".bin", cli);
}

/** The version test/agent-clis/package.json pins. */
export function agentCliVersion(cli: AgentCli): string {
  const manifest = JSON.parse(readFileSync(join(agentClisDir, "package.json"), "utf8")) as { dependencies: Record<string, string> };
  return manifest.dependencies[packageNames[cli]] as string;
}

/** Whether the CLI is installed: a test that needs it fails with this hint rather than skipping. */
export function agentCliMissing(cli: AgentCli): string | undefined {
  return existsSync(agentCliPath(cli)) ? undefined : `${cli} is not installed: run scripts/install-agent-clis.sh`;
}

/**
 * Everything it takes to run one agent CLI against one model endpoint, in the form Cook's agent
 * adapters take:
 *
 * - `configTemplate`: a folder prepared once. For each session its contents are COPIED into a new,
 *   empty config folder of that session's own (the CLIs keep session history and state there, so
 *   sessions must not share one, and the template is never written to).
 * - `env`: variables to set for the CLI. The text `{configDir}` in a value stands for the
 *   session's config folder (`CLAUDE_CONFIG_DIR={configDir}`, `CODEX_HOME={configDir}`, …).
 * - `args`: extra command-line arguments, given before the adapter's own (a model choice, …).
 *
 * `startAgentSession` does the copy and the substitution.
 */
export interface AgentLogin {
  cli: AgentCli;
  configTemplate: string;
  env: Record<string, string>;
  args: string[];
}

/** A login made concrete for one session. */
export interface AgentSession {
  cli: AgentCli;
  configDir: string;
  env: Record<string, string>;
  args: string[];
}

export const configDirPlaceholder = "{configDir}";

/** Any value will do: the scripted server does not check keys. */
const apiKey = "cook-test-key";

export interface LoginOptions {
  /** Where the template folder goes; a new temp folder by default. */
  dir?: string;
  /** The model to ask for; each CLI has a default the scripted server accepts. */
  model?: string;
}

/** A login that points `cli` at the model server at `baseUrl` (`http://127.0.0.1:<port>`). */
export function prepareAgentLogin(cli: AgentCli, baseUrl: string, options: LoginOptions = {}): AgentLogin {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), `cook-login-${cli}-`));
  mkdirSync(dir, { recursive: true });
  switch (cli) {
    case "claude":
      return claudeLogin(dir, baseUrl, options.model);
    case "codex":
      return codexLogin(dir, baseUrl, options.model ?? "gpt-5.5");
    case "gemini":
      return geminiLogin(dir, baseUrl, options.model ?? "gemini-2.5-pro");
    case "opencode":
      return opencodeLogin(dir, baseUrl, options.model ?? "scripted-model");
  }
}

function claudeLogin(dir: string, baseUrl: string, model: string | undefined): AgentLogin {
  const env: Record<string, string> = {
    ANTHROPIC_BASE_URL: baseUrl,
    ANTHROPIC_API_KEY: apiKey,
    CLAUDE_CONFIG_DIR: configDirPlaceholder,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    DISABLE_TELEMETRY: "1",
    DISABLE_AUTOUPDATER: "1",
    DISABLE_ERROR_REPORTING: "1",
  };
  // As root, --dangerously-skip-permissions refuses to run (exit 1) unless told it is in a sandbox.
  if (process.getuid?.() === 0) env.IS_SANDBOX = "1";
  return { cli: "claude", configTemplate: dir, env, args: model ? ["--model", model] : [] };
}

function codexLogin(dir: string, baseUrl: string, model: string): AgentLogin {
  // The model must be a slug of Codex's built-in catalog: an unknown one loses the apply_patch tool.
  const config = [
    `model = "${model}"`,
    `model_provider = "scripted"`,
    `check_for_update_on_startup = false`,
    "",
    "[model_providers.scripted]",
    `name = "Scripted model"`,
    `base_url = "${baseUrl}/v1"`,
    `wire_api = "responses"`,
    `env_key = "COOK_MODEL_API_KEY"`,
    "",
    "[analytics]",
    "enabled = false",
    "",
    "[feedback]",
    "enabled = false",
    "",
    "[features]",
    "plugins = false",
    "remote_plugin = false",
    "apps = false",
    "",
  ].join("\n");
  writeFileSync(join(dir, "config.toml"), config);
  return { cli: "codex", configTemplate: dir, env: { CODEX_HOME: configDirPlaceholder, COOK_MODEL_API_KEY: apiKey }, args: [] };
}

function geminiLogin(dir: string, baseUrl: string, model: string): AgentLogin {
  const settings = {
    general: { enableAutoUpdate: false, enableAutoUpdateNotification: false },
    privacy: { usageStatisticsEnabled: false },
    telemetry: { enabled: false },
    security: { auth: { selectedType: "gemini-api-key" } },
  };
  mkdirSync(join(dir, ".gemini"), { recursive: true });
  writeFileSync(join(dir, ".gemini", "settings.json"), `${JSON.stringify(settings, null, 2)}\n`);
  return {
    cli: "gemini",
    configTemplate: dir,
    env: {
      GEMINI_CLI_HOME: configDirPlaceholder,
      GOOGLE_GEMINI_BASE_URL: baseUrl,
      GEMINI_API_KEY: apiKey,
      // It re-launches itself with a larger heap otherwise: one more node process per run.
      GEMINI_CLI_NO_RELAUNCH: "true",
    },
    // A fixed model saves the router's extra request.
    args: ["--model", model],
  };
}

function opencodeLogin(dir: string, baseUrl: string, model: string): AgentLogin {
  const config = {
    $schema: "https://opencode.ai/config.json",
    provider: {
      scripted: {
        npm: "@ai-sdk/openai-compatible",
        name: "Scripted model",
        options: { baseURL: `${baseUrl}/v1`, apiKey },
        models: { [model]: { name: model, tool_call: true } },
      },
    },
    model: `scripted/${model}`,
    small_model: `scripted/${model}`,
    autoupdate: false,
    share: "disabled",
  };
  writeFileSync(join(dir, "opencode.json"), `${JSON.stringify(config, null, 2)}\n`);
  seedOpencodePlugin(join(dir, "config", "opencode"));
  return {
    cli: "opencode",
    configTemplate: dir,
    env: {
      OPENCODE_CONFIG: `${configDirPlaceholder}/opencode.json`,
      XDG_CONFIG_HOME: `${configDirPlaceholder}/config`,
      XDG_DATA_HOME: `${configDirPlaceholder}/data`,
      XDG_CACHE_HOME: `${configDirPlaceholder}/cache`,
      XDG_STATE_HOME: `${configDirPlaceholder}/state`,
      OPENCODE_DISABLE_MODELS_FETCH: "1",
      OPENCODE_DISABLE_DEFAULT_PLUGINS: "1",
      OPENCODE_DISABLE_AUTOUPDATE: "1",
      OPENCODE_DISABLE_LSP_DOWNLOAD: "1",
    },
    args: [],
  };
}

/**
 * On every start OpenCode makes sure its config folder has `@opencode-ai/plugin` (for plugins the
 * user writes there), installing it from the registry in the background unless node_modules exists
 * and every dependency in package.json is also in package-lock.json. The installed copy (same
 * version as the CLI) is linked in, with the two manifests that say so.
 */
function seedOpencodePlugin(configFolder: string): void {
  const plugin = join(agentClisDir, "node_modules", "@opencode-ai", "plugin");
  const version = (JSON.parse(readFileSync(join(plugin, "package.json"), "utf8")) as { version: string }).version;
  const dependencies = { "@opencode-ai/plugin": version };
  mkdirSync(join(configFolder, "node_modules", "@opencode-ai"), { recursive: true });
  symlinkSync(plugin, join(configFolder, "node_modules", "@opencode-ai", "plugin"));
  writeFileSync(join(configFolder, "package.json"), `${JSON.stringify({ dependencies }, null, 2)}\n`);
  const lock = { name: "opencode", lockfileVersion: 3, requires: true, packages: { "": { dependencies }, "node_modules/@opencode-ai/plugin": { version, link: true } } };
  writeFileSync(join(configFolder, "package-lock.json"), `${JSON.stringify(lock, null, 2)}\n`);
}

/** Copies the login's template into `configDir` (a new temp folder by default) and fills in the env. */
export function startAgentSession(login: AgentLogin, configDir = mkdtempSync(join(tmpdir(), `cook-session-${login.cli}-`))): AgentSession {
  mkdirSync(configDir, { recursive: true });
  cpSync(login.configTemplate, configDir, { recursive: true });
  const env = Object.fromEntries(Object.entries(login.env).map(([key, value]) => [key, value.replaceAll(configDirPlaceholder, configDir)]));
  return { cli: login.cli, configDir, env, args: [...login.args] };
}

/**
 * The headless command line for one prompt (see shared notes on agent CLIs): machine-readable
 * stream on stdout, no approval prompts, resume by explicit id.
 */
export function agentRunArgs(cli: AgentCli, prompt: string, resume?: string): string[] {
  switch (cli) {
    case "claude":
      return ["-p", prompt, "--output-format", "stream-json", "--verbose", "--dangerously-skip-permissions", ...(resume ? ["--resume", resume] : [])];
    case "codex":
      return resume
        ? ["exec", "resume", "--json", "--dangerously-bypass-approvals-and-sandbox", "--skip-git-repo-check", resume, prompt]
        : ["exec", "--json", "--dangerously-bypass-approvals-and-sandbox", "--skip-git-repo-check", prompt];
    case "gemini":
      return ["-p", prompt, "--output-format", "stream-json", "--yolo", "--skip-trust", ...(resume ? ["--resume", resume] : [])];
    case "opencode":
      // One argument with spaces reaches the model in quotes: the prompt goes as separate words.
      return ["run", "--format", "json", "--auto", ...(resume ? ["--session", resume] : []), ...prompt.split(/\s+/).filter(Boolean)];
  }
}

let isolation: "netns" | "proxy" | undefined;

/**
 * How runs are kept off the network: "netns" runs the CLI in a network namespace of its own with
 * only loopback (needs root and unshare); "proxy" (elsewhere) only points HTTP(S)_PROXY at the
 * model server, which records and refuses what comes.
 */
export function networkIsolation(): "netns" | "proxy" {
  if (!isolation) {
    const probe = spawnSync("unshare", ["-n", "--", "ip", "link", "set", "lo", "up"], { stdio: "ignore" });
    isolation = probe.status === 0 ? "netns" : "proxy";
  }
  return isolation;
}

export interface AgentRun {
  home: string;
  tmpDir: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export interface RunOptions {
  session: AgentSession;
  /** The model server: its URL for the proxy, its socket for the namespace. */
  server: { url: string; port: number; socketPath: string };
  cwd: string;
  prompt: string;
  resume?: string;
  /** More variables (a git identity, …), applied last. */
  env?: Record<string, string>;
  /** HOME for the run; a new empty temp folder by default. */
  home?: string;
  /**
   * TMPDIR for the run; a new temp folder by default. The CLIs leave files there: OpenCode a
   * 5.5 MB native library per start, Claude Code its socket and scratch folders, Gemini CLI its
   * error reports.
   */
  tmpDir?: string;
  /** The run is killed (with everything it started) after this long; default 90 s. */
  timeoutMs?: number;
}

const forwarder = join(packageRoot(), "dist", "test", "fixtures", "model-server", "netns-run.js");

/**
 * Runs the CLI once, stdin closed, stdout and stderr apart, with a fresh empty HOME and a minimal
 * environment (nothing of the developer's logins leaks in), inside a network namespace of its own
 * when the machine allows. Any proxy-aware client that tries to leave loopback lands on the model
 * server as a proxy request and is recorded in `server.outbound`.
 */
export function runAgentCli(cli: AgentCli, options: RunOptions): Promise<AgentRun> {
  const home = options.home ?? mkdtempSync(join(tmpdir(), "cook-home-"));
  const tmpDir = options.tmpDir ?? mkdtempSync(join(tmpdir(), "cook-tmp-"));
  const proxy = options.server.url;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: home,
    TMPDIR: tmpDir,
    LANG: "C.UTF-8",
    TERM: "dumb",
    NO_COLOR: "1",
    HTTP_PROXY: proxy,
    HTTPS_PROXY: proxy,
    ALL_PROXY: proxy,
    http_proxy: proxy,
    https_proxy: proxy,
    NO_PROXY: "127.0.0.1,localhost,::1",
    no_proxy: "127.0.0.1,localhost,::1",
    ...options.session.env,
    ...options.env,
  };
  const args = [...options.session.args, ...agentRunArgs(cli, options.prompt, options.resume)];
  const [command, commandArgs] =
    networkIsolation() === "netns"
      ? ["unshare", ["-n", "--", process.execPath, forwarder, options.server.socketPath, String(options.server.port), agentCliPath(cli), ...args]]
      : [agentCliPath(cli), args];
  const started = Date.now();
  return new Promise((resolve, reject) => {
    // A process group of its own, so a time-out ends the CLI and everything it started.
    const child = spawn(command, commandArgs as string[], { cwd: options.cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      if (child.pid) process.kill(-child.pid, "SIGKILL");
    }, options.timeoutMs ?? 90_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ home, tmpDir, code, signal, stdout, stderr, durationMs: Date.now() - started });
    });
  });
}

/**
 * The session id a run's stream names (Claude `session_id`, Codex `thread_id`, Gemini
 * `session_id` on `init`, OpenCode `sessionID`): only what the tests need to resume, not a parser.
 */
export function streamSessionId(stdout: string): string | undefined {
  for (const line of stdout.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const event = JSON.parse(line) as Record<string, unknown>;
      const id = event.session_id ?? event.thread_id ?? event.sessionID;
      if (typeof id === "string" && id) return id;
    } catch {
      // not a JSON line
    }
  }
  return undefined;
}
