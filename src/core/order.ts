/**
 * Code-unit order, not locale order: the same names and facts give the same bytes on every
 * host, whatever its locale ("B.md" before "a.md", "10-x.md" before "9-x.md").
 */
export const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
