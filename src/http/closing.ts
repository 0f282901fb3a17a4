import type { FastifyInstance } from 'fastify';
import { SupervisorError } from '../core/errors.js';

/**
 * Once the daemon is stopping, a request that still arrives (pipelined, or on a connection busy
 * with an answer) is refused 503 in our error shape, with the connection closed. Fastify's own
 * refusal (return503OnClosing, turned off where the instance is made) answers a body of another
 * shape, so a client reading `error.code` got a string.
 */
export function refuseWhileClosing(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // A callback, not an async hook: it runs on every request, and a promise each time costs more than the check.
  app.addHook('onRequest', (_request, reply, done) => {
    if (!closing) return done();
    void reply.header('connection', 'close');
    done(new SupervisorError('unavailable', 'the daemon is stopping; try again in a moment (a daemon sharing its database can answer meanwhile)'));
  });
}
