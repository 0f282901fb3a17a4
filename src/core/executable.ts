// Whether a command can be started, found as a shell finds it: a path as it is, a bare name
// in the folders of PATH. Checked before work that would be left half done by a missing one.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Whether some `<dir>/<command>` of PATH passes `test` (a file that is missing, or that `test` throws on, does not). */
export function onPath(command: string, test: (file: string) => boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  return (env.PATH ?? '').split(delimiter).some((dir) => {
    if (dir === '') return false;
    try {
      return test(join(dir, command));
    } catch {
      return false;
    }
  });
}

/** A file this process may execute (a folder with its x bit is not one). */
export function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Whether `command` (a path, or a name looked up on PATH) names a file that can be executed. */
export const commandFound = (command: string, env: NodeJS.ProcessEnv = process.env): boolean =>
  command.includes('/') ? isExecutable(command) : onPath(command, isExecutable, env);
