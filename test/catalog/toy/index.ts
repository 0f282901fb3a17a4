// A domain as small as a domain gets: one setting, one table, one operation. It lives
// only in the tests, which add it to the domain list to show that a domain appears in
// every interface without touching a file outside its folder.
import { z } from 'zod';
import { defineDomain, need } from '../../../src/catalog/domain.js';
import { operationsOf, READ } from '../../../src/catalog/operation.js';
import type { Db } from '../../../src/core/db.js';
import { defineSettings } from '../../../src/core/settings.js';
import type { ProjectService } from '../../../src/projects/index.js';

class ToyService {
  constructor(
    private readonly db: Db,
    private readonly greeting: string,
    private readonly projects: Pick<ProjectService, 'get'>,
  ) {}

  async greet(name: string): Promise<{ text: string; count: number; projectExists: boolean }> {
    await this.db.query('INSERT INTO toy_greetings (name) VALUES ($1)', [name]);
    const { rows } = await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM toy_greetings WHERE name = $1', [name]);
    const projectExists = await this.projects.get(name).then(() => true, () => false);
    return { text: `${this.greeting}, ${name}`, count: rows[0]!.n, projectExists };
  }
}

const operation = operationsOf<ToyService>('toy');

export const toyDomain = defineDomain({
  id: 'toy',
  title: 'Toy',
  description: 'Toy: greets whoever asks (a test domain).',
  defaultFor: [],
  settings: defineSettings({
    toyGreeting: { env: 'SUPERVISOR_TOY_GREETING', schema: z.string().min(1), default: 'hello', doc: 'What the toy domain says first.' },
  }),
  needs: { projects: need<Pick<ProjectService, 'get'>>() },
  migrations: new URL('./migrations/', import.meta.url),
  create: ({ core, settings, needs }) => new ToyService(core.db, settings.toyGreeting, needs.projects),
  operations: [
    operation({
      name: 'ping_toy',
      title: 'Ping toy',
      description: 'Greet someone and count how often they were greeted.',
      access: 'any',
      annotations: READ,
      rest: { method: 'GET', path: '/toy/ping' },
      cli: { command: ['toy', 'ping'], args: ['name'] },
      input: z.object({ name: z.string().min(1).max(40).describe('Who to greet') }),
      output: z.object({ text: z.string(), count: z.number().int(), projectExists: z.boolean() }),
      handler: ({ svc }, input) => svc.greet(input.name),
    }),
  ],
});
