/**
 * A reader that goes before the output ends (`supervisor audit list --json | head -1`, a client
 * that closed its end of an MCP stdio session) makes the next write fail with EPIPE, which Node
 * raised as an uncaught error: a stack trace on stderr and exit 1 for a command that did its work.
 * Here the command ends quietly instead, as a program killed by SIGPIPE would, but with 0: the
 * output that was wanted was read. Not for the daemon, which must shut down properly.
 */
export function endQuietlyWhenOutputCloses(stream: NodeJS.WriteStream = process.stdout): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(0);
  });
}
