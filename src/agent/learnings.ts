// What a finished loop teaches the next one in the same project: what failed along the way and
// what fixed it, stored as knowledge (tags piv and the outcome) and primed into later loops.
import type { PivState } from './model.js';

const OUTPUT_LINES = 12;

export interface Learning {
  title: string;
  text: string;
  tags: string[];
}

/** `validation-<n>` artifacts by attempt n; the text as validate.ts formats it. */
export type ValidationTexts = Map<number, string>;

export function learningOf(state: PivState, validations: ValidationTexts): Learning {
  const retries = Math.max(0, state.attempts - 1);
  const lines = [
    `Feature: ${state.feature}`,
    `Outcome: ${state.status} on branch ${state.branch} after ${retries} ${retries === 1 ? 'retry' : 'retries'} (${state.turns} agent turns).`,
    `Validation commands: ${state.settings.validationCommands.join('; ')}`,
  ];
  const failedAttempts = [...validations].filter(([, text]) => /\(exit (?!0,)|\(stopped/.test(text));
  if (failedAttempts.length > 0) {
    lines.push('', 'What failed:');
    for (const [attempt, text] of failedAttempts) lines.push(`- attempt ${attempt}: ${lastLines(text)}`);
  }
  if (state.status === 'succeeded' && failedAttempts.length > 0) {
    lines.push('', `What fixed it: attempt ${state.attempts} passed validation, changing ${state.filesChanged.join(', ') || 'no files'}.`);
  } else if (state.status === 'succeeded') {
    lines.push('', `Passed validation at the first attempt, changing ${state.filesChanged.join(', ') || 'no files'}.`);
  }
  if (state.failure) lines.push('', `Why it stopped (${state.failure.reason}, in ${state.failure.phase}): ${state.failure.message}`);
  return { title: `PIV loop: ${state.feature.split('\n')[0]!.slice(0, 150)}`, text: lines.join('\n'), tags: ['piv', state.status] };
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-OUTPUT_LINES).join('\n  ');
}
