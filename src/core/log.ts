import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Field names whose values are secret material. pino replaces them wherever they
 * appear (two levels deep), so a stray `log.info({ input })` cannot leak a value.
 */
const SECRET_FIELDS = ['value', 'token', 'secret', 'masterKey', 'password', 'authorization', 'plaintext', 'key'];

export const REDACT_PATHS = [
  ...SECRET_FIELDS,
  ...SECRET_FIELDS.map((f) => `*.${f}`),
  ...SECRET_FIELDS.map((f) => `*.*.${f}`),
  'req.headers.authorization',
  'headers.authorization',
];

/** Logs go to stderr (fd 2) always: in stdio MCP mode stdout carries only protocol messages. */
export function createLogger(level: string, destination: pino.DestinationStream = pino.destination(2)): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    destination,
  );
}
