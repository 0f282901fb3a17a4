import type { Logger } from './log.js';

/**
 * A listener's state changes, said in the log: losing the notifications from other daemons
 * changes what this one does (a cache bypassed, revocations checked at each use), and an
 * operator reading the log after an outage must see when that began and ended. The first
 * "listening" at start is not a change.
 */
export function logListenState(log: Pick<Logger, 'warn' | 'info'>, channel: string, whileLost: string): (listening: boolean) => void {
  let was: boolean | undefined;
  return (listening) => {
    if (listening === was || (was === undefined && listening)) return void (was = listening);
    was = listening;
    if (listening) log.info({ channel }, `notifications from other daemons heard again (${channel})`);
    else log.warn({ channel }, `lost the notifications from other daemons (${channel}): ${whileLost} until they are back`);
  };
}
