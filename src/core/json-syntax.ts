/**
 * What is wrong with text that JSON.parse refused, without the excerpt of that text V8 puts
 * into some of its messages (`Unexpected token 'h', ..."value":hunter2LEA"... is not valid
 * JSON`): the text may carry a secret's value, or a token in a config file, and errors go to
 * terminals, CI logs and agents' transcripts. Messages that give a position keep it.
 */
export function jsonSyntaxReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (!/ is not valid JSON$/s.test(message)) return message;
  return /^Unexpected token/.test(message) ? 'an unexpected character' : 'not valid JSON';
}
