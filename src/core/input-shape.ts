/**
 * Checks on untrusted JSON before anything walks it recursively: how deep it nests,
 * and whether its text is text every interface can store and give back unchanged.
 * Iterative, so a hostile nesting depth cannot overflow the stack of the check itself.
 */

/** Deeper than any operation's input; JSON.stringify and zod recurse, so a limit keeps them safe. */
export const MAX_INPUT_DEPTH = 32;

export type InputProblem = 'too_deep' | 'nul' | 'lone_surrogate';

export interface FoundProblem {
  problem: InputProblem;
  /** Where, as field names and indexes (empty for the input itself). */
  path: Array<string | number>;
}

const MESSAGES: Record<InputProblem, string> = {
  too_deep: `nests more than ${MAX_INPUT_DEPTH} levels deep`,
  nul: 'must not contain NUL bytes',
  lone_surrogate: 'is not valid Unicode text (a lone surrogate such as \\ud800); send UTF-8 text, or base64-encode binary data',
};

export const describeProblem = (problem: InputProblem): string => MESSAGES[problem];

/** A high surrogate without its low half, or a low one without its high half. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function textProblem(text: string): InputProblem | undefined {
  if (text.includes('\0')) return 'nul';
  return LONE_SURROGATE.test(text) ? 'lone_surrogate' : undefined;
}

/** The first problem in `value` (depth first, in key order), or undefined when there is none. */
export function findInputProblem(value: unknown, maxDepth = MAX_INPUT_DEPTH): FoundProblem | undefined {
  const stack: Array<{ value: unknown; path: Array<string | number> }> = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: item, path } = stack.pop()!;
    if (typeof item === 'string') {
      const problem = textProblem(item);
      if (problem) return { problem, path };
      continue;
    }
    if (item === null || typeof item !== 'object') continue;
    if (path.length >= maxDepth) return { problem: 'too_deep', path };
    const entries: Array<[string | number, unknown]> = Array.isArray(item) ? item.map((v, i) => [i, v]) : Object.entries(item);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, child] = entries[i]!;
      if (typeof key === 'string') {
        const problem = textProblem(key);
        if (problem) return { problem, path: [...path, key] };
      }
      stack.push({ value: child, path: [...path, key] });
    }
  }
  return undefined;
}
