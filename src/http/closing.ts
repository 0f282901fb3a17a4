import { Server, type Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { SupervisorError } from '../core/errors.js';

/** A connection with no request for this long is taken for idle, and may be closed at a stop. */
const IDLE_MS = 100;
/** The longest a stop waits for busy keep-alive connections to be told to close. */
const DRAIN_MS = 1_000;
/** A connection's last activity while a request on it is being answered. */
const BUSY = Number.POSITIVE_INFINITY;

/**
 * Once the daemon is stopping, a request that still arrives (pipelined, on a kept-alive
 * connection, or on a new one) is refused 503 in our error shape, with the connection closed.
 * Fastify's own refusal (return503OnClosing, turned off where the instance is made) answers a
 * body of another shape, so a client reading `error.code` got a string.
 *
 * Closing the server closes idle keep-alive connections at once, and a client whose next request
 * was already on its way got a reset instead of an answer (one per connection under load). So a
 * stop first stops listening, then answers 503 on the open connections until each has been quiet
 * for a moment (each busy one is told to close by its 503) or a second has passed.
 */
export function refuseWhileClosing(app: FastifyInstance): void {
  let closing = false;
  const lastActive = new Map<Socket, number>();
  app.server.on('connection', (socket: Socket) => {
    lastActive.set(socket, Date.now());
    socket.once('close', () => lastActive.delete(socket));
  });
  app.addHook('preClose', async () => {
    closing = true;
    // Stop listening now, without http's close (which also closes idle connections): a new
    // connection is refused, which a client may always retry elsewhere; those open drain below.
    // Fastify's close of the server afterwards finds it closed, which it expects.
    if (app.server.listening) Server.prototype.close.call(app.server);
    const until = Date.now() + DRAIN_MS;
    const quiet = () => [...lastActive.values()].every((at) => at <= Date.now() - IDLE_MS);
    while (!quiet() && Date.now() < until) await delay(10);
    // What has no request under way goes now: an idle keep-alive connection, and one that never
    // sent a whole request (a preconnect, headers cut short), which closing the server waits for
    // until its request timeout — longer than a stop may take, so the rest of the stop was skipped.
    for (const [socket, at] of lastActive) if (at !== BUSY) socket.destroy();
  });
  // Callbacks, not async hooks: they run on every request, and a promise each time costs more than the check.
  // Only for sockets still open: an answer finished after its connection closed must not bring it back.
  const mark = (socket: Socket, at: number) => void (lastActive.has(socket) && lastActive.set(socket, at));
  app.addHook('onRequest', (request, reply, done) => {
    mark(request.raw.socket, BUSY);
    if (!closing) return done();
    void reply.header('connection', 'close');
    done(new SupervisorError('unavailable', 'the daemon is stopping; try again in a moment (a daemon sharing its database can answer meanwhile)'));
  });
  app.addHook('onResponse', (request, _reply, done) => {
    mark(request.raw.socket, Date.now());
    done();
  });
}
