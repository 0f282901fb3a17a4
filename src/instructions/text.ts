/**
 * Code-unit order, not locale order: the same names and facts give the same bytes on every
 * host, whatever its locale ("B.md" before "a.md", "10-x.md" before "9-x.md").
 */
export const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Lines as an editor numbers them: a final line end does not start another line. */
export const lineCount = (text: string) => (text === '' ? 0 : text.replace(/\r?\n$/, '').split('\n').length);
