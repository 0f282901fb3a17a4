import type { Principal } from '../core/principal.js';
import { ownerCommand } from './adopt.js';
import type { Socket } from './reconcile.js';

/** What a caller is shown of a listening process's command line. */
export type CommandView = (command: string | null) => string | null;

export const wholeCommand: CommandView = (command) => command;

/**
 * An admin sees whole command lines. A project token sees the program only (`node
 * server.js --db-password=…` → server.js): arguments can carry the credentials of whoever
 * started the process, any project's or none, and a token may be used from another machine,
 * where /proc cannot be read. Matching owners against commands still uses the whole line.
 */
export const commandViewFor = (principal: Principal): CommandView => (principal.role === 'admin' ? wholeCommand : ownerCommand);

type Processes = Array<{ pid: number; command: string | null }>;

export const viewProcesses = (processes: Processes, view: CommandView): Processes =>
  view === wholeCommand ? processes : processes.map((p) => ({ pid: p.pid, command: view(p.command) }));

export const viewSocket = <T extends Socket>(socket: T, view: CommandView): T =>
  view === wholeCommand ? socket : { ...socket, command: view(socket.command), processes: viewProcesses(socket.processes, view) };
