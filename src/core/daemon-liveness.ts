/**
 * A call the daemon takes long over is legitimate (a PIV loop waited for, a VM change); a daemon
 * that stopped answering is not (stopped with SIGSTOP, hung, its host gone without a reset): the
 * call would wait for ever. While a call is out, /healthz is asked every `everyMs`; no answer to
 * it within `answerMs` ends the call. Loads only node:http (the stdio relay's start is counted).
 */
import { request } from 'node:http';

export interface Liveness {
  everyMs: number;
  answerMs: number;
}

export const LIVENESS: Liveness = { everyMs: 15_000, answerMs: 10_000 };

/** Any answer of `url`, whatever its status, within `answerMs`: a daemon at work. */
async function answers(url: URL, answerMs: number): Promise<void> {
  const get = url.protocol === 'https:' ? (await import('node:https')).request : request;
  await new Promise<void>((resolve, reject) => {
    const req = get(url, { method: 'GET', signal: AbortSignal.timeout(answerMs) }, (res) => {
      res.resume();
      res.on('end', resolve);
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Asks `<baseUrl>/healthz` every `everyMs` (the first time after `firstMs`) until the returned
 * stop is called; `onSilent` is called once, with the reason, when it goes unanswered.
 */
export function watchDaemon(baseUrl: string, liveness: Liveness, onSilent: (reason: Error) => void, firstMs = liveness.everyMs): () => void {
  const { everyMs, answerMs } = liveness;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const next = (delayMs: number) => {
    timer = setTimeout(() => {
      answers(new URL('/healthz', baseUrl), answerMs).then(
        () => void (stopped || next(everyMs)),
        () => void (stopped || onSilent(new Error(`it has not answered /healthz within ${answerMs / 1000} s while a call was waiting`))),
      );
    }, delayMs);
  };
  next(firstMs);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
