/** A mistake in the command line itself (exit code 2), as opposed to an operation that failed (exit code 1). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(
    message: string,
    /** The command's usage line, printed under the message. */
    readonly usage?: string,
    /** The help command that explains more. */
    readonly helpCommand?: string,
  ) {
    super(message);
  }
}

/** --json and --field each choose the whole output; given both, neither would be what was asked. */
export const FIELD_WITH_JSON = '--field and --json: choose one (--field prints one field raw, --json the whole answer)';
