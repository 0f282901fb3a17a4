/** Line numbers in a message: "lines 3 and 9", "lines 2, 5 and 8", "line 4", "no line". */
export const linesPhrase = (lines: number[]): string =>
  lines.length === 0 ? 'no line' : `line${lines.length > 1 ? 's' : ''} ${lines.slice(0, -1).join(', ')}${lines.length > 1 ? ' and ' : ''}${lines.at(-1)}`;
