// Long text is cut into chunks a search can rank on their own and an agent can read whole:
// at paragraph breaks where possible, then line breaks, then sentence ends, and only as a last
// resort in the middle of a word. Short paragraphs are packed together up to the limit.
export const CHUNK_CHARS = 1_200;

export function chunkText(text: string, max = CHUNK_CHARS): string[] {
  return split(text.replace(/\r\n?/g, '\n').trim(), max, SEPARATORS);
}

/** Coarsest first, each with the text that joins two pieces it separated. */
const SEPARATORS: Array<{ at: RegExp; glue: string }> = [
  { at: /\n\s*\n/, glue: '\n\n' },
  { at: /\n/, glue: '\n' },
  { at: /(?<=[.!?])\s+/, glue: ' ' },
  { at: /\s+/, glue: ' ' },
];

/** Pieces of at most `max` characters, each cut at the coarsest separator that makes it fit. */
function split(text: string, max: number, separators: Array<{ at: RegExp; glue: string }>): string[] {
  if (text.length <= max) return text ? [text] : [];
  const [separator, ...finer] = separators;
  if (!separator) {
    const out: string[] = [];
    for (let i = 0; i < text.length; i += max) out.push(text.slice(i, i + max));
    return out;
  }
  const parts = text.split(separator.at).map((p) => p.trim()).filter(Boolean);
  if (parts.length === 1) return split(text, max, finer);
  const out: string[] = [];
  let current = '';
  for (const part of parts.flatMap((p) => split(p, max, finer))) {
    const joined = current ? `${current}${separator.glue}${part}` : part;
    if (joined.length <= max) current = joined;
    else {
      if (current) out.push(current);
      current = part;
    }
  }
  if (current) out.push(current);
  return out;
}
