// Warnings, never errors: a long file or a repeated paragraph still works, it just costs every
// session context (Claude Code's guidance is under ~200 lines per CLAUDE.md: longer files use
// more context and are followed less reliably).
import { lineCount } from './text.js';
import { clipped } from '../core/clip.js';

const MAX_LINES = 200;
/** Shorter paragraphs ("## Ports", "Ask first.") repeat legitimately. */
const MIN_REPEATED_CHARS = 40;

export function lintLength(shown: string, text: string): string[] {
  const lines = lineCount(text);
  if (lines <= MAX_LINES) return [];
  return [`${shown} is ${lines} lines, over the ~${MAX_LINES} Claude Code recommends: shorten a layer or move detail into files the agent reads when needed`];
}

/**
 * Layer files with no text: write_instruction_layer refuses to empty one, but a file emptied by
 * hand (or by an earlier version) takes its section out of every project without a word.
 */
export function lintEmpty(files: Array<{ source: string; text: string }>): string[] {
  return files.filter((f) => f.text.trim() === '').map((f) => `${f.source} is empty, so it adds nothing: write its text again if it was emptied by mistake, else delete the file`);
}

/**
 * Paragraphs (blank-line separated, whitespace collapsed) that appear in more than one layer
 * file: the same instruction said twice, usually a project copy of a core rule.
 */
export function lintRepeats(files: Array<{ source: string; text: string }>): string[] {
  const firstSeen = new Map<string, string>();
  const warnings: string[] = [];
  for (const file of files) {
    for (const paragraph of new Set(paragraphs(file.text))) {
      const earlier = firstSeen.get(paragraph);
      if (earlier === undefined) firstSeen.set(paragraph, file.source);
      else if (earlier !== file.source) warnings.push(`${file.source} repeats a paragraph of ${earlier}: "${excerpt(paragraph)}"`);
    }
  }
  return warnings;
}

function paragraphs(text: string): string[] {
  return text
    .split(/\n[ \t]*\n/)
    .map((p) => p.replace(/\s+/g, ' ').trim())
    .filter((p) => p.length >= MIN_REPEATED_CHARS);
}

const excerpt = (paragraph: string) => (paragraph.length <= 60 ? paragraph : clipped(paragraph, 58));
