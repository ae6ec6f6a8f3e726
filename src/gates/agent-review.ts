import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { AgentEvent } from "../core/agent-event.js";
import type { BackendName, Branch } from "../core/branch.js";
import { isCookError } from "../core/errors.js";
import { formatBytes, formatDuration } from "../core/format.js";
import type { GateDefinition, GateRun } from "../core/gate.js";
import type { AgentConfig } from "../config/agent-config.js";
import { attemptsOfRun, finishAttempt, insertAttempt } from "../db/gate-run-store.js";
import { deadline } from "../agents/run-deadline.js";
import { runAgentOnce, type OnceResult } from "../agents/run-once.js";
import { checkAgent } from "../agents/sessions.js";
import { backendFor } from "../environments/backends.js";
import { repoDir } from "../forge/paths.js";
import type { GateDeps } from "./deps.js";
import type { GateOutcome } from "./execute-run.js";
import { gateCheckoutsDir, gateEnvironment, makeGateCheckout, removeGateCheckout } from "./gate-checkout.js";
import { createAttemptLog } from "./gate-log.js";
import { reviewPrompt, type ReviewSubject } from "./review-prompt.js";
import { finalReply, parseReviewVerdict } from "./review-verdict.js";
import { transcriptLine } from "./review-transcript.js";

/**
 * The most of the diff put in the prompt (bytes). Every CLI takes its prompt as one argument (and
 * a command agent in COOK_PROMPT too), and Linux refuses to start a program with any one argument
 * or variable of 128 KiB or more (MAX_ARG_STRLEN, E2BIG): the diff, the gate's request and the
 * fixed text must fit under that together.
 */
export const maxDiffBytes = 100 * 1024;
/** The most of the gate's own `prompt` put in the prompt (bytes). */
const maxRequestBytes = 16 * 1024;
/** The most of a reply kept as a result's detail (characters). */
export const maxDetailChars = 64 * 1024;

/** Where the reviewer runs: the branch's backend and network, as for command gates. */
export interface ReviewPlace {
  backend: Exclude<BackendName, "none">;
  network: boolean;
}

/**
 * agent_review: runs the gate's agent (default: the server's default agent) once, non-interactively,
 * in its CLI's read-only or plan mode, in a throwaway checkout of exactly `run.head` (removed at the
 * end, so nothing it writes can land), through the branch's backend, with no token. It is asked the
 * gate's `prompt` about the diff from the merge base of the target and the head (at most
 * maxDiffBytes, the prompt saying when cut), and must end its reply with `VERDICT: approve` or
 * `VERDICT: request-changes` (review-verdict.ts). approve passes with the comments as detail;
 * request-changes fails with them and `changesRequested`; a reply without a verdict line fails with
 * the reply as detail. An unknown agent, a missing login or program fails at once with the reason;
 * the run is killed with everything it started at the gate's timeout, or when `signal` aborts
 * (then `canceled`). The reviewer's events are kept as the gate's attempt log, announced as output.
 */
export async function reviewWithAgent(deps: GateDeps, branch: Branch, run: GateRun, gate: GateDefinition, place: ReviewPlace, signal: AbortSignal): Promise<GateOutcome> {
  let agent: AgentConfig;
  try {
    agent = checkAgent(deps, gate.agent ?? deps.defaultAgent);
  } catch (err) {
    if (!isCookError(err)) throw err;
    return { state: "failed", summary: `cannot review: ${err.message}` };
  }
  const scope = { repo: branch.repo, branch: branch.name, runId: run.id, gate: gate.name };
  const attempt = (await attemptsOfRun(deps.db, run.id)).filter((a) => a.gate === gate.name).length + 1;
  await insertAttempt(deps.db, run.id, gate.name, attempt);
  const started = Date.now();
  const log = createAttemptLog(deps, scope, attempt);
  const write = (line: string) => log.write(Buffer.from(`${line}\n`));
  const checkout = join(gateCheckoutsDir(deps.dataDir), `${run.id}-${gate.name}-${attempt}`);
  const environment = gateEnvironment({ runId: run.id, branchId: branch.id, backend: place.backend, network: place.network }, checkout);
  const limit = deadline(signal, gate.timeoutMs);
  // Only what follows the reviewer's last tool use can be its final reply (finalReply).
  const tail: AgentEvent[] = [];
  let result: OnceResult | undefined;
  let error: string | undefined;
  try {
    const subject = await reviewSubject(deps, branch, run, gate);
    write(`reviewer: agent '${agent.name}' (${agent.kind}) on ${run.head.slice(0, 12)} against ${run.target} at ${subject.base.slice(0, 12)}; diff ${formatBytes(Buffer.byteLength(subject.diff))}${subject.cut ? `, cut (${subject.cut.shortstat})` : ""}`);
    await makeGateCheckout(repoDir(deps.dataDir, branch.repo), checkout, run.head);
    for (const folder of backendFor(place.backend).privateFolders(environment)) mkdirSync(folder, { recursive: true });
    if (!limit.signal.aborted) {
      result = await runAgentOnce({
        agent,
        context: { environment, repo: branch.repo, branch: branch.name, serverUrl: deps.factory.url(), token: "", dataDir: deps.dataDir },
        prompt: reviewPrompt(subject),
        readOnly: true,
        id: `review-${run.id}-${gate.name}-${attempt}`,
        env: { COOK_GATE: gate.name, COOK_RUN_ID: run.id, COOK_COMMIT: run.head, COOK_TARGET_COMMIT: run.targetCommit },
        signal: limit.signal,
        onEvent(event) {
          if (event.kind === "tool_call" || event.kind === "tool_result") tail.length = 0;
          tail.push(event);
          const line = transcriptLine(event);
          if (line !== undefined) write(line);
        },
      });
    }
  } catch (err) {
    error = `could not review: ${(err as Error).message.split("\n")[0]}`;
  } finally {
    limit.dispose();
    removeGateCheckout(environment);
  }
  const timedOut = limit.timedOut();
  const canceled = signal.aborted && !timedOut;
  const outcome: GateOutcome = canceled ? { state: "canceled", summary: "canceled" } : judgeReply(agent, gate, { error, timedOut, result, reply: finalReply(tail) });
  write(`── ${outcome.summary}`);
  await log.close();
  // A shutdown is not a cancellation: the attempt is interrupted, and the run starts again with the server.
  const recorded = outcome.state === "canceled" ? (signal.reason === "shutdown" ? "interrupted" : "canceled") : outcome.state === "passed" ? "passed" : "failed";
  await finishAttempt(deps.db, run.id, gate.name, attempt, { state: recorded, exitCode: result?.exitCode, durationMs: Date.now() - started });
  return outcome;
}

/** What the reviewer's run came to, read as the gate's outcome (not for a canceled run). */
function judgeReply(agent: AgentConfig, gate: GateDefinition, ended: { error: string | undefined; timedOut: boolean; result: OnceResult | undefined; reply: string }): GateOutcome {
  const { error, timedOut, result, reply } = ended;
  const detail = bounded(reply);
  if (error) return { state: "failed", summary: error };
  if (timedOut) return { state: "failed", summary: `the reviewer '${agent.name}' timed out after ${formatDuration(gate.timeoutMs)} and was killed`, detail };
  if (!result) return { state: "failed", summary: "could not review: the reviewer did not run" };
  if (result.startError) return { state: "failed", summary: `could not review: ${result.startError}` };
  if (result.exitCode !== 0) {
    const why = result.lastError ? `: ${result.lastError.split("\n")[0]!.slice(0, 200)}` : "";
    return { state: "failed", summary: `the reviewer '${agent.name}' exited with code ${result.exitCode}${why}`, detail, exitCode: result.exitCode };
  }
  const review = parseReviewVerdict(reply);
  if (!review) return { state: "failed", summary: "the reviewer's reply has no VERDICT line", detail: detail ?? "(the reviewer wrote nothing)" };
  if (review.verdict === "approve") return { state: "passed", summary: `approved by ${agent.name}`, detail: bounded(review.comments) };
  return { state: "failed", summary: `${agent.name} requested changes`, detail: bounded(review.comments) ?? "(no comments)", changesRequested: true };
}

function bounded(text: string): string | undefined {
  if (text.trim() === "") return undefined;
  return text.length <= maxDetailChars ? text : `${text.slice(0, maxDetailChars)}\n… [cut at ${maxDetailChars} characters]`;
}

/**
 * The diff under review: from the merge base of the target's commit and the head (as a pull
 * request shows it; the target's commit itself when they share no history) to the head, at most
 * maxDiffBytes, cut at a line end, with git's shortstat of the whole when cut.
 */
async function reviewSubject(deps: GateDeps, branch: Branch, run: GateRun, gate: GateDefinition): Promise<ReviewSubject> {
  const gitDir = repoDir(deps.dataDir, branch.repo);
  const base = (await deps.git.text(gitDir, ["merge-base", run.targetCommit, run.head], { okCodes: [1] })).trim() || run.targetCommit;
  const diffArgs = ["diff", "--no-color", "--no-ext-diff", "--no-textconv", base, run.head];
  const out = await deps.git.run(gitDir, diffArgs, { maxStdoutBytes: maxDiffBytes + 1 });
  let diff = out.stdout;
  let cut: ReviewSubject["cut"];
  if (out.cut || diff.length > maxDiffBytes) {
    const kept = diff.subarray(0, maxDiffBytes);
    diff = kept.subarray(0, kept.lastIndexOf(10) + 1);
    cut = { shortstat: (await deps.git.text(gitDir, ["diff", "--shortstat", base, run.head])).trim() };
  }
  const request = gate.prompt === undefined ? undefined : Buffer.from(gate.prompt).subarray(0, maxRequestBytes).toString("utf8");
  // A NUL cannot be passed in an argument; git shows files holding one as binary, so only cook.toml could bring one.
  const text = (value: string) => value.replaceAll("\0", "");
  return { repo: branch.repo, branch: branch.name, target: run.target, base, head: run.head, request: request && text(request), diff: text(diff.toString("utf8")), cut };
}
