// Value kinds several settings share. Each refuses, when it is set, a value the daemon would
// only find wrong later: at its next start, or on every call as if a service were down.
import { isIP } from 'node:net';
import { z } from 'zod';
import { commandFound } from './executable.js';

/** An http(s) URL: `z.string().url()` alone takes any scheme (ftp://, mailto:), which an API client then fails on, retried as an outage. */
export const httpUrlSetting = z.string().url().refine((u) => /^https?:\/\//i.test(u), 'must be an http:// or https:// URL');

/** What node-postgres connects with: a postgres:// (or postgresql://) URL, or socket: for a Unix socket. */
export const postgresUrlSetting = z
  .string()
  .url()
  .refine((u) => /^(postgres|postgresql|socket):/i.test(u), 'must be a postgres:// or postgresql:// URL (socket: for a Unix socket), such as postgres://user@127.0.0.1:5432/supervisor');

const HOST_NAME = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/** An address to bind: an IP address or a host name (whether it resolves is found at start). */
export const bindHostSetting = z.string().refine((h) => isIP(h) !== 0 || HOST_NAME.test(h), 'must be an IP address (127.0.0.1, ::1, 0.0.0.0) or a host name');

/** A command the daemon starts (a path, or a name on its PATH): one it cannot find would fail every run after the restart. */
export const commandSetting = z.string().refine((c) => commandFound(c), 'is not a command this daemon can start: give the path of an executable file, or a name on its PATH');
