/** A mistake in the command line itself (exit code 2), as opposed to an operation that failed (exit code 1). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
