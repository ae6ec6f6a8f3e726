/**
 * The fixed instruction every agent gets on its first run (as a system prompt where the CLI takes
 * one, else ahead of the prompt): where it is, that it commits, and how it ends.
 */
export function agentInstruction(repo: string, branch: string, hasTask: boolean): string {
  return [
    `You are working in a Cook environment: a checkout of branch '${branch}' of the repository '${repo}'.`,
    hasTask ? "Your task is described in TASK.md at the root of the checkout (it is not part of the repository)." : "",
    "Commit your work with git as you go, on this branch.",
    "When the work is finished and committed, run `cook done` (it pushes your commits and ends your session).",
    'If you cannot go on without a human (a question, a decision, missing access), run `cook ask-for-help "<what you need>"` and stop.',
  ]
    .filter((line) => line !== "")
    .join("\n");
}

/** The prompt of a run started for a task with none given. */
export const taskPrompt = "Work on the task described in TASK.md.";
