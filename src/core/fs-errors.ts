import { SupervisorError, type ErrorCode } from './errors.js';

const REASONS: Record<string, { reason: string; code: ErrorCode }> = {
  EACCES: { reason: 'permission denied', code: 'forbidden' },
  EPERM: { reason: 'operation not permitted', code: 'forbidden' },
  EROFS: { reason: 'read-only file system', code: 'forbidden' },
  ENOENT: { reason: 'no such file or directory', code: 'not_found' },
  ENOTDIR: { reason: 'a part of the path is not a directory', code: 'invalid_input' },
  EISDIR: { reason: 'it is a directory', code: 'invalid_input' },
  ELOOP: { reason: 'too many levels of symlinks', code: 'invalid_input' },
  ENOSPC: { reason: 'no space left on the device', code: 'unavailable' },
  EDQUOT: { reason: 'disk quota exceeded', code: 'unavailable' },
};

export const errnoCode = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | undefined)?.code;

/** Why a file-system call failed, in words ("it is a directory"), else its code or message. */
export function fsReason(err: unknown): string {
  const code = errnoCode(err);
  return (code && REASONS[code]?.reason) ?? code ?? (err as Error).message;
}

/**
 * A file-system error as a person reads it in a per-project report: what we tried, on which
 * path, and why, instead of Node's "EACCES: permission denied, open '/x/.CLAUDE.md.3f2a.tmp'".
 * Anything that is not an errno error is returned as it is.
 */
export function fsFailure(action: string, path: string, err: unknown): unknown {
  const code = errnoCode(err);
  if (code === undefined || err instanceof SupervisorError) return err;
  const known = REASONS[code];
  return new SupervisorError(known?.code ?? 'unavailable', `cannot ${action} ${path}: ${known?.reason ?? (err as Error).message} (${code})`, { path, errno: code });
}

/** Runs `fn` and turns its file-system errors into fsFailure's message. */
export async function describingFsErrors<T>(action: string, path: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw fsFailure(action, path, err);
  }
}
