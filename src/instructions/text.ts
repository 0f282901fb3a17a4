/** Lines as an editor numbers them: a final line end does not start another line. */
export const lineCount = (text: string) => (text === '' ? 0 : text.replace(/\r?\n$/, '').split('\n').length);
