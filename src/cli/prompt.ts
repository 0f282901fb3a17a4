import { SupervisorError } from '../core/errors.js';

/**
 * Asks for a value on the terminal with echo off (the prompt goes to stderr, so
 * stdout stays the answer). Enter ends it; Ctrl-C and Ctrl-D cancel; backspace works.
 */
export function promptHidden(prompt: string, input: NodeJS.ReadStream = process.stdin, out: NodeJS.WriteStream = process.stderr): Promise<string> {
  return new Promise((resolve, reject) => {
    let value = '';
    const wasRaw = input.isRaw;
    // Echo goes off before the prompt shows, so nothing typed after it is ever echoed.
    input.setRawMode(true);
    out.write(prompt);
    input.setEncoding('utf8');
    const finish = (error?: Error) => {
      input.off('data', onData);
      input.setRawMode(wasRaw);
      input.pause();
      out.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish();
        // Interrupted as a shell sees Ctrl-C: the command exits 130 (see report in program.ts).
        if (ch === '\u0003') return finish(new SupervisorError('invalid_input', 'cancelled (Ctrl-C); nothing was written', { interrupted: true }));
        if (ch === '\u0004') {
          if (value === '') return finish(new SupervisorError('invalid_input', 'cancelled (Ctrl-D); nothing was written'));
          return finish();
        }
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else if (ch >= ' ' || ch === '\t') value += ch;
      }
    };
    input.on('data', onData);
    input.resume();
  });
}
