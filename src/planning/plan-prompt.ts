import type { Task } from "../core/task.js";
import { maxDrafts, planFence } from "./plan-format.js";

/** The most open tasks listed in the prompt, so the planner neither repeats nor contradicts them. */
const maxListedTasks = 50;

/**
 * The planner's prompt: the goal, the repo's open tasks, the fixed answer format, and on a second
 * attempt its previous answer with the problems found in it.
 */
export function planPrompt(input: { goal: string; repo: string; openTasks: readonly Task[]; previous?: { answer: string; problems: string[] } }): string {
  const lines = [
    `You are planning work on the repository '${input.repo}' (its default branch is checked out here; read it, change nothing).`,
    "",
    "Goal:",
    input.goal,
    "",
    "Break the goal into tasks an engineer or a coding agent can each finish on one branch, in a day or less. Give each task a body in Markdown that says what to do and ends with acceptance criteria (a list). Say which tasks must be merged before a task can start (depends_on), and keep that graph small: only real dependencies.",
  ];
  if (input.openTasks.length > 0) {
    lines.push("", "Tasks already open in this repo (do not repeat them; you may depend on them by id):");
    for (const task of input.openTasks.slice(0, maxListedTasks)) lines.push(`- ${task.id}: ${task.title}`);
  }
  lines.push(
    "",
    `Answer with a fenced block \`\`\`${planFence} holding JSON, and nothing after it:`,
    "",
    `\`\`\`${planFence}`,
    '{"tasks": [',
    '  {"id": "add-login-form", "title": "Add the login form", "body": "…\\n\\nAcceptance criteria:\\n- …", "priority": 1, "depends_on": []},',
    '  {"id": "wire-login-api", "title": "Wire the form to the API", "body": "…", "priority": 2, "depends_on": ["add-login-form"]}',
    "]}",
    "```",
    "",
    `Rules: ids are 1-64 lowercase letters, digits and '-', unique; titles are one line; priority is 0 (critical) to 4 (someday), default 2; depends_on names ids of this plan or of the open tasks above; no cycles; at most ${maxDrafts} tasks. An optional "stage" (a name or number) groups tasks that should land before the next stage starts. An optional "parent" (an id of this plan) makes a task a sub-task: its branch starts from the parent's branch and merges into it, and the parent lands once all its sub-tasks are in; use it to keep a large change off the default branch until it is whole.`,
  );
  if (input.previous) {
    lines.push("", "Your previous answer could not be used:", ...input.previous.problems.map((p) => `- ${p}`), "", "Your previous answer was:", input.previous.answer.slice(0, 20_000), "", `Answer again, fixing these, with the whole plan in one \`\`\`${planFence} block.`);
  }
  return lines.join("\n");
}
