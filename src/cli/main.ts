#!/usr/bin/env node
import { supervisor } from '../app.js';
import { SupervisorError } from '../core/errors.js';
import { runCli } from './program.js';
import { UsageError } from './usage-error.js';

// Everything this process creates (the embedded database, key files, daemon.json) is for its owner only.
process.umask(0o077);

runCli(process.argv.slice(2), supervisor).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`supervisor: ${err.message}\n`);
      process.exitCode = 2;
    } else if (err instanceof SupervisorError) {
      process.stderr.write(`supervisor: ${err.code}: ${err.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`supervisor: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
