// What the agent is told in each phase. Each prompt opens with its phase name in capitals
// ("PLAN phase", "IMPLEMENT phase"), which is also what the scripted fake agent keys on.
import type { ValidationFailure } from './model.js';

export const SYSTEM_PROMPT = [
  'You are the coding agent of a Plan → Implement → Validate loop run by the supervisor, on the git branch it created for this feature.',
  'Do not commit, push, switch branches, stash or rewrite history: the supervisor runs the validation commands and commits your changes itself once they pass.',
  'Work only inside this repository.',
].join('\n');

export function planPrompt(feature: string, context: string): string {
  return `PLAN phase.

Feature: ${feature}

Write a plan for this feature: the files to create or change and what changes in each, the tests to add or update, and the risks. Do not change any files. Reply with the plan only: it is handed to the implementing agent as you write it.

# Context

${context}
`;
}

export function implementPrompt(feature: string, plan: string, commands: string[]): string {
  return `IMPLEMENT phase.

Feature: ${feature}

Make the changes the plan below describes, in the working tree, with tests. When you finish, the supervisor runs these commands and they must pass: ${commandList(commands)}.

# Plan

${plan}
`;
}

export function retryPrompt(feature: string, plan: string, commands: string[], failure: ValidationFailure, retry: number, maxRetries: number): string {
  return `IMPLEMENT phase, retry ${retry} of ${maxRetries}.

Feature: ${feature}

Validation failed: \`${failure.command}\` ${failure.exitCode === null ? 'was stopped' : `exited with code ${failure.exitCode}`}. The end of its output:

\`\`\`
${failure.outputTail.trimEnd()}
\`\`\`

Find the cause and fix it. Your earlier changes are still in the working tree. These commands must pass: ${commandList(commands)}.

# Plan

${plan}
`;
}

function commandList(commands: string[]): string {
  return commands.map((c) => `\`${c}\``).join(', ');
}
