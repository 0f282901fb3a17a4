const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * A spinner on a terminal's stderr while a call runs longer than `delayMs` (stdout
 * stays the answer; nothing is drawn when stderr is not a terminal). `stop` erases it.
 */
export function startSpinner(label: string, stream: NodeJS.WriteStream = process.stderr, delayMs = 300): { stop(): void } {
  if (!stream.isTTY) return { stop: () => undefined };
  let frame = 0;
  let drawn = false;
  let ticker: NodeJS.Timeout | undefined;
  const draw = () => {
    stream.write(`\r${FRAMES[frame++ % FRAMES.length]} ${label}`);
    drawn = true;
  };
  const starter = setTimeout(() => {
    draw();
    ticker = setInterval(draw, 100);
  }, delayMs);
  return {
    stop() {
      clearTimeout(starter);
      if (ticker) clearInterval(ticker);
      if (drawn) stream.write('\r\x1b[K');
    },
  };
}
