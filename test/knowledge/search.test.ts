// Knowledge search through the domain's operations on both backends: realistic notes, realistic
// questions, the right chunk first; a project's search never shows another project's chunks.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalInvoker } from '../../src/catalog/local-invoker.js';
import { adminPrincipal, projectPrincipal } from '../../src/core/principal.js';
import { chunkText } from '../../src/knowledge/chunk.js';
import { skipReason, testBackends } from '../helpers/db.js';
import { assertRejects } from '../helpers/errors.js';
import { openTestServices, type TestServices } from '../helpers/services.js';

type Hit = { project: string; title: string; chunk: number; snippet: string; rank: number; text?: string };

/** Notes as a team writes them: several on neighbouring subjects, so ranking has work to do. */
const NOTES: Array<{ project: string; title: string; text: string; tags?: string[] }> = [
  {
    project: 'consilio',
    title: 'Database migrations',
    text: 'Migrations live in db/migrations and run with npm run migrate. Never edit a migration that was deployed; add a new one. The test database is reset before every run.',
    tags: ['db'],
  },
  {
    project: 'consilio',
    title: 'Flaky login test',
    text: 'The login end-to-end test failed now and then because the session cookie was set after the redirect. Fixed by awaiting the cookie write before redirecting. If it fails again, look at auth/session.ts first.',
    tags: ['tests', 'auth'],
  },
  {
    project: 'consilio',
    title: 'Deploying to production',
    text: 'Deploys go through supervisor deploy. The health check must answer on /healthz within 30 seconds or the deploy is rolled back. Environment variables come from the secrets under project/consilio/.',
  },
  {
    project: 'consilio',
    title: 'Styling',
    text: 'We use CSS modules, no global styles. Colours come from theme.css; dark mode switches the variables there.',
  },
  {
    project: 'odin',
    title: 'Rate limits of the mail provider',
    text: 'The mail provider allows 10 requests per second. Batch sends in groups of 50 and retry on HTTP 429 with backoff. The login email uses the same provider.',
  },
  {
    project: 'odin',
    title: 'Database connection pool',
    text: 'The pool size is 20; migrations take their own connection. A pool exhausted error in tests means a test forgot to release its client.',
  },
];

for (const backend of testBackends()) {
  describe(`knowledge [${backend}]`, { skip: await skipReason(backend) }, () => {
    let s: TestServices;
    let admin: LocalInvoker;
    const search = async (via: LocalInvoker, input: Record<string, unknown>) => ((await via.invoke('search_knowledge', input)).results as Hit[]);

    before(async () => {
      s = await openTestServices(backend);
      admin = new LocalInvoker(s, adminPrincipal('test-admin'), 'internal');
      for (const project of ['consilio', 'odin']) await s.projects.add('test', { name: project });
      for (const note of NOTES) await admin.invoke('add_knowledge', note);
    });
    after(() => s.close());

    for (const [query, project, title] of [
      ['why does the login test fail sometimes', 'consilio', 'Flaky login test'],
      ['how do I add a database migration', 'consilio', 'Database migrations'],
      ['deploy rolled back health check', 'consilio', 'Deploying to production'],
      ['dark mode colours', 'consilio', 'Styling'],
      ['email sending hits rate limit 429', 'odin', 'Rate limits of the mail provider'],
      ['pool exhausted in tests', 'odin', 'Database connection pool'],
    ] as const) {
      test(`"${query}" finds "${title}" first`, async () => {
        const hits = await search(admin, { query, project });
        assert.equal(hits[0]?.title, title, JSON.stringify(hits.map((h) => [h.title, h.rank])));
        assert.match(hits[0]!.snippet, /\*\*[^*]+\*\*/, 'the snippet highlights the matched words');
      });
    }

    test('dotted names and paths are found by their parts and whole: express, checkout, req.body, src/routes/checkout.ts', async () => {
      await admin.invoke('add_knowledge', {
        project: 'odin',
        title: 'Webhook body parsing',
        text: 'Call express.raw() on the route. The handler lives in src/routes/checkout.ts and reads req.body.amount.',
      });
      for (const query of ['express', 'checkout', 'amount', 'req.body', 'checkout.ts', 'src/routes/checkout.ts', 'express.raw']) {
        const hits = await search(admin, { query, project: 'odin' });
        assert.equal(hits[0]?.title, 'Webhook body parsing', `${query}: ${JSON.stringify(hits.map((h) => h.title))}`);
      }
      // The snippet marks the written name the query's name is part of.
      const snippet = async (query: string) => (await search(admin, { query, project: 'odin' }))[0]!.snippet;
      assert.match(await snippet('req.body'), /\*\*req\.body\.amount\*\*/);
      assert.match(await snippet('checkout.ts'), /\*\*src\/routes\/checkout\.ts\*\*/);
      assert.match(await snippet('express.raw'), /\*\*express\.raw\*\*/);
      // A plain word found as a part of a name marks the name too: the snippet shows why it matched.
      assert.match(await snippet('amount'), /\*\*req\.body\.amount\*\*/);
      assert.match(await snippet('routes'), /\*\*src\/routes\/checkout\.ts\*\*/);
    });

    test('without a project filter an admin searches every project; with one, never another project\'s chunks', async () => {
      const everywhere = await search(admin, { query: 'login database migrations pool', limit: 50 });
      assert.deepEqual([...new Set(everywhere.map((h) => h.project))].sort(), ['consilio', 'odin']);
      for (const project of ['consilio', 'odin']) {
        const hits = await search(admin, { query: 'login database migrations pool email deploy', project, limit: 50 });
        assert.ok(hits.length > 0);
        assert.deepEqual(hits.filter((h) => h.project !== project), []);
      }
      // A misspelt project is named, not answered with "nothing found".
      await assertRejects(admin.invoke('search_knowledge', { query: 'login', project: 'consillio' }), 'not_found', /^no project consillio/);
      // A query of spaces is no query: refused like an empty one, not answered with nothing found.
      for (const query of ['', '   ', '\t\n']) await assertRejects(admin.invoke('search_knowledge', { query }), 'invalid_input', /query: must hold a word to search for/);
    });

    test("a project token searches its own project only, whatever it asks", async () => {
      const odin = new LocalInvoker(s, projectPrincipal('odin', 'token:odin'), 'mcp');
      const hits = await search(odin, { query: 'login test session cookie redirect', limit: 50 });
      assert.deepEqual([...new Set(hits.map((h) => h.project))], ['odin']);
      await assertRejects(odin.invoke('search_knowledge', { query: 'login', project: 'consilio' }), 'forbidden');
      await assertRejects(odin.invoke('add_knowledge', { project: 'consilio', title: 'x', text: 'y' }), 'forbidden');
    });

    test('tags filter; stop words alone are refused as an empty query is; withText gives the whole chunk', async () => {
      assert.deepEqual((await search(admin, { query: 'login', tags: ['auth'] })).map((h) => h.title), ['Flaky login test']);
      await assertRejects(search(admin, { query: 'the and of ?!' }), 'invalid_input', /query: holds only words search leaves out \(common words such as the, a, of, and punctuation\)/);
      // A word search can use, that no note holds, is an empty answer.
      assert.deepEqual(await search(admin, { query: 'the zeppelin' }), []);
      const [hit] = await search(admin, { query: 'cookie', withText: true });
      assert.equal(hit?.text, NOTES[1]!.text);
    });

    test('a long text is cut into chunks, and the chunk that says it ranks first', async () => {
      const filler = (topic: string) => Array.from({ length: 12 }, (_, i) => `Paragraph ${i} about ${topic}: it describes the ${topic} in ordinary words.`).join('\n\n');
      const text = `${filler('architecture')}\n\nThe websocket reconnect uses exponential backoff capped at thirty seconds.\n\n${filler('onboarding')}`;
      const added = await admin.invoke('add_knowledge', { project: 'consilio', title: 'Handbook', text });
      assert.ok((added.chunks as number) >= 2, `chunks: ${added.chunks}`);
      const [hit] = await search(admin, { query: 'websocket reconnect backoff', project: 'consilio' });
      assert.equal(hit?.title, 'Handbook');
      assert.match(hit!.snippet, /\*\*websocket\*\* \*\*reconnect\*\*/);
    });

    test('a document the product writes under a key (a PIV loop\'s learning) is replaced, chunks and all, when written again', async () => {
      const filler = Array.from({ length: 40 }, (_, i) => `Paragraph ${i} of the first outcome, in ordinary words that fill a chunk.`).join('\n\n');
      const first = await s.knowledge.add(adminPrincipal('system'), { project: 'odin', title: 'PIV loop: Send invoices', text: `${filler}\n\nOutcome: failed at validation.`, source: 'piv', key: 'piv:loop-1' });
      assert.ok(first.chunks >= 2);
      const second = await s.knowledge.add(adminPrincipal('system'), { project: 'odin', title: 'PIV loop: Send invoices', text: 'Outcome: succeeded after 1 retry.', source: 'piv', key: 'piv:loop-1' });
      assert.notEqual(second.id, first.id);
      const hits = await search(admin, { query: 'outcome invoices', project: 'odin', withText: true });
      assert.deepEqual(hits.map((h) => h.text), ['Outcome: succeeded after 1 retry.']);
      // add_knowledge has no key: two notes with the same title are two notes.
      await admin.invoke('add_knowledge', { project: 'odin', title: 'Standup', text: 'Monday standup moved to ten.' });
      await admin.invoke('add_knowledge', { project: 'odin', title: 'Standup', text: 'Friday standup cancelled.' });
      assert.equal((await search(admin, { query: 'standup', project: 'odin' })).length, 2);
    });

    test('delete_knowledge removes a note and all its chunks, audited; a project token deletes only its own project\'s notes', async () => {
      const filler = Array.from({ length: 40 }, (_, i) => `Paragraph ${i} says the staging bucket is called west-assets, in ordinary words.`).join('\n\n');
      const added = await admin.invoke('add_knowledge', { project: 'consilio', title: 'Staging bucket', text: filler });
      assert.ok((added.chunks as number) >= 2);
      const odin = new LocalInvoker(s, projectPrincipal('odin', 'token:odin'), 'mcp');
      await assertRejects(odin.invoke('delete_knowledge', { id: added.id }), 'not_found', /^no knowledge document \d+; /);
      const consilio = new LocalInvoker(s, projectPrincipal('consilio', 'token:consilio'), 'mcp');
      const deleted = await consilio.invoke('delete_knowledge', { id: added.id });
      assert.deepEqual(deleted, { id: added.id, project: 'consilio', title: 'Staging bucket', chunks: added.chunks });
      assert.deepEqual(await search(admin, { query: 'staging bucket west-assets' }), []);
      await assertRejects(admin.invoke('delete_knowledge', { id: added.id }), 'not_found', /no knowledge document \d+; search_knowledge shows/);
      const audit = await s.audit.list({ action: 'knowledge.delete', limit: 10 });
      assert.deepEqual(audit.map((a) => [a.actor, a.target, a.detail]), [['token:consilio', 'consilio', { id: added.id, title: 'Staging bucket' }]]);
    });

    test('the same note stored again answers the first one and adds nothing; another title, text or tags is another note', async () => {
      const note = { project: 'odin', title: 'Retry budget', text: 'Retries stop after five attempts.', tags: ['ops'] };
      const first = await admin.invoke('add_knowledge', note);
      const again = await admin.invoke('add_knowledge', { ...note, tags: ['ops', 'ops'] });
      assert.deepEqual([first.created, again.created, again.id], [true, false, first.id]);
      assert.equal((await search(admin, { query: 'retries attempts', project: 'odin', limit: 50 })).filter((h) => h.title === 'Retry budget').length, 1);
      for (const other of [{ ...note, title: 'Retry budget v2' }, { ...note, text: 'Retries stop after six attempts.' }, { ...note, tags: [] }]) {
        const added = await admin.invoke('add_knowledge', other);
        assert.equal(added.created, true, JSON.stringify(other));
        await admin.invoke('delete_knowledge', { id: added.id });
      }
      await admin.invoke('delete_knowledge', { id: first.id });
    });

    test('a project that holds knowledge is removed only with force, and its knowledge goes with it', async () => {
      await s.projects.add('test', { name: 'gone' });
      await admin.invoke('add_knowledge', { project: 'gone', title: 'Temporary', text: 'Remember the milk.' });
      await assertRejects(admin.invoke('remove_project', { project: 'gone' }), 'conflict', /knowledge documents: 1 \(knowledge "Temporary"\)/);
      await admin.invoke('remove_project', { project: 'gone', force: true });
      assert.deepEqual(await search(admin, { query: 'milk' }), []);
      // Nor can knowledge wait under a name no project has for a project of that name to inherit it.
      await assertRejects(admin.invoke('add_knowledge', { project: 'gone', title: 'Orphan', text: 'Nobody owns this.' }), 'not_found', /^no project gone; /);
    });

    test('a chunk holding a queried name or path as written ranks above chunks that only share its parts', async () => {
      await s.projects.add('test', { name: 'kq' });
      await admin.invoke('add_knowledge', { project: 'kq', title: 'Ports note', text: 'The helper is called diagnoseRefusal in src/ports/diagnose.ts. Set DATABASE_URL before the tests.' });
      await admin.invoke('add_knowledge', { project: 'kq', title: 'Database migrations gotcha', text: 'Run the database migrations before the database seeds; the database must be empty.' });
      // Code files as a project indexes them: the path as the title, and text full of the same words.
      for (const file of ['allocations', 'service', 'reports', 'ranges']) {
        const text = Array.from({ length: 6 }, (_, i) => `import { x${i} } from 'src/ports/${file}-${i}.ts'; // ports of the src tree, diagnosed per ${file}`).join('\n');
        await admin.invoke('add_knowledge', { project: 'kq', title: `src/ports/${file}.ts`, text });
      }
      for (const query of ['src/ports/diagnose.ts', 'diagnose.ts', 'DATABASE_URL', 'where is DATABASE_URL set?']) {
        const hits = await search(admin, { query, project: 'kq', limit: 10 });
        assert.equal(hits[0]?.title, 'Ports note', `${query}: ${JSON.stringify(hits.map((h) => [h.title, h.rank]))}`);
      }
      // Words without a name in them rank as before.
      assert.equal((await search(admin, { query: 'database migrations', project: 'kq' }))[0]?.title, 'Database migrations gotcha');
    });

    test('a chunk whose text holds every query word ranks above a chunk whose title holds one of them', async () => {
      await s.projects.add('test', { name: 'kr' });
      await admin.invoke('add_knowledge', { project: 'kr', title: 'Opening hours', text: 'Reception is staffed from eight to six.' });
      await admin.invoke('add_knowledge', { project: 'kr', title: 'Staff canteen', text: 'The kitchen hours change in August: it closes at two.' });
      const hits = await search(admin, { query: 'kitchen hours', project: 'kr' });
      assert.deepEqual(hits.map((h) => h.title), ['Staff canteen', 'Opening hours'], JSON.stringify(hits.map((h) => [h.title, h.rank])));
      assert.ok(hits[0]!.rank > hits[1]!.rank);
    });

    test('accents are folded on both sides: cafe finds café, café finds cafe, and the snippet highlights the match', async () => {
      await s.projects.add('test', { name: 'ka' });
      await admin.invoke('add_knowledge', { project: 'ka', title: 'Menu', text: 'The café on the corner opens at nine; order the crème brûlée.' });
      await admin.invoke('add_knowledge', { project: 'ka', title: 'Hours', text: 'The cafe closes at five.' });
      const titles = async (query: string) => (await search(admin, { query, project: 'ka' })).map((h) => h.title).sort();
      assert.deepEqual(await titles('cafe'), ['Hours', 'Menu']);
      assert.deepEqual(await titles('café'), ['Hours', 'Menu']);
      assert.deepEqual(await titles('CRÈME brulee'), ['Menu']);
      // Typed with its accent, the word is highlighted in the text as written.
      const [accented] = await search(admin, { query: 'brûlée', project: 'ka' });
      assert.match(accented!.snippet, /\*\*brûlée\*\*/);
      // Typed without it, the snippet is still the text as written, the accented words highlighted.
      const menu = (await search(admin, { query: 'cafe corner creme brulee', project: 'ka' })).find((h) => h.title === 'Menu');
      assert.match(menu!.snippet, /\*\*café\*\* on the \*\*corner\*\*.*\*\*crème\*\* \*\*brûlée\*\*/);
    });
  });
}

describe('chunkText', () => {
  test('short text is one chunk; paragraphs are packed up to the limit and never cut when they fit', () => {
    assert.deepEqual(chunkText('  one line  '), ['one line']);
    const paragraphs = ['a'.repeat(50), 'b'.repeat(50), 'c'.repeat(50)];
    assert.deepEqual(chunkText(paragraphs.join('\n\n'), 110), [`${paragraphs[0]}\n\n${paragraphs[1]}`, paragraphs[2]]);
  });

  test('a paragraph longer than the limit is cut at sentence ends, then words, then anywhere', () => {
    const sentences = 'First sentence here. Second sentence here. Third sentence here.';
    assert.deepEqual(chunkText(sentences, 45), ['First sentence here. Second sentence here.', 'Third sentence here.']);
    assert.ok(chunkText('x'.repeat(250), 100).every((c) => c.length <= 100));
    assert.equal(chunkText('x'.repeat(250), 100).join(''), 'x'.repeat(250));
  });
});
