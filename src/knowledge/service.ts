import type { AuditLog } from '../core/audit.js';
import type { Clock } from '../core/clock.js';
import type { Db, Queryable } from '../core/db.js';
import { invalidInput, notFound } from '../core/errors.js';
import { assertOwnProject, mayUse, type Principal } from '../core/principal.js';
import type { ProjectLookup } from '../projects/index.js';
import type { OwnedItems, ProjectData } from '../core/project-data.js';
import { chunkText } from './chunk.js';

export interface KnowledgeServiceDeps {
  db: Db;
  clock: Clock;
  audit: AuditLog;
  projects: ProjectLookup;
}

export interface AddKnowledgeInput {
  project: string;
  title: string;
  text: string;
  tags?: string[];
  /** `manual` (add_knowledge) or `piv` (a finished loop's learnings). */
  source?: string;
  /** What the document is about, for documents the product writes (`piv:<loop id>`): a second add with the same key replaces the first. */
  key?: string;
}

export interface KnowledgeHit {
  docId: number;
  chunkId: number;
  project: string;
  title: string;
  /** Which chunk of the document (0 is the first). */
  chunk: number;
  tags: string[];
  rank: number;
  /** The best passages, matched words between ** and **. */
  snippet: string;
  /** The whole chunk, when asked for. */
  text?: string;
}

export interface SearchInput {
  query: string;
  project?: string;
  tags?: string[];
  limit?: number;
  withText?: boolean;
}

interface HitRow {
  doc_id: number | string;
  chunk_id: number | string;
  project: string;
  title: string;
  chunk_index: number;
  tags: string[];
  rank: number;
  snippet: string;
  text: string;
}

/** A tsquery matching any word of `text`, whole or, for a dotted name or path, by its parts. */
const anyOf = (text: string) => `replace((plainto_tsquery('english', ${text}) || plainto_tsquery('english', translate(${text}, './', '  ')))::text, ' & ', ' | ')::tsquery`;
const HEADLINE = `'StartSel=**, StopSel=**, MaxWords=30, MinWords=10, MaxFragments=2, FragmentDelimiter=" … "'`;

/**
 * Any of the query's words may match (a realistic question rarely has every word in the right
 * chunk). Chunks that match more of the query's distinct terms come first: a title holding one
 * word must not outrank a text holding them all, as ts_rank alone (title weighted 2.5 times the
 * text) let it. Within the same count, ts_rank orders them, the title first. Stop words are
 * dropped and words stemmed as the chunks' are (English configuration); accents are folded out
 * of both sides by knowledge_fold (see the migration). A dotted name or path in the query also
 * matches by its parts, as the chunks are indexed. The parts alone would rank every file of a
 * folder above the note that names the file: each name of the query (a word with . / or _) found
 * as written adds 1 to the tie-break. rank = terms matched + tie-break / (tie-break + 1), so the
 * figure alone orders the results.
 *
 * The snippet is cut from the text as written, so ts_headline, which knows nothing of folding,
 * is also given the chunk's accented words that fold to a query word ("café" for a search of
 * "cafe"): those are highlighted too. So are the written names that hold a name or a word of
 * the query (req.body.amount for req.body or amount, src/routes/checkout.ts for checkout.ts):
 * the parser reads each as one word, which the query's name or word alone would not match.
 */
const SEARCH_SQL = `
  WITH q AS (SELECT ${anyOf('knowledge_fold($1)')} AS query),
  terms AS (
    SELECT DISTINCT term FROM regexp_split_to_table(knowledge_fold($1), '\\s+') AS word,
      LATERAL (SELECT plainto_tsquery('english', word) || plainto_tsquery('english', translate(word, './', '  ')) AS term) t
    WHERE numnode(term) > 0)
  SELECT h.doc_id, h.chunk_id, h.project, h.title, h.chunk_index, h.tags, h.terms + h.score / (h.score + 1) AS rank,
         ts_headline('english', h.text, q.query || ${anyOf(`COALESCE((
           SELECT string_agg(w.lexeme, ' ') FROM unnest(to_tsvector('simple', h.text)) AS w
           WHERE (w.lexeme <> knowledge_fold(w.lexeme) AND to_tsvector('english', knowledge_fold(w.lexeme)) @@ q.query)
              OR EXISTS (SELECT 1 FROM unnest($5::text[]) AS name WHERE strpos(knowledge_fold(w.lexeme), knowledge_fold(name)) > 0)
              OR (w.lexeme ~ '[./]' AND to_tsvector('english', translate(knowledge_fold(w.lexeme), './', '  ')) @@ q.query)), '')`)}, ${HEADLINE}) AS snippet,
         h.text
  FROM q, (
    SELECT c.doc_id, c.id AS chunk_id, c.project, c.title, c.chunk_index, c.tags, c.text,
           (SELECT count(*) FROM terms WHERE c.search @@ terms.term) AS terms,
           ts_rank(c.search, q.query) + (SELECT count(*) FROM unnest($5::text[]) AS name WHERE strpos(knowledge_fold(lower(c.title || ' ' || c.text)), knowledge_fold(name)) > 0) AS score
    FROM knowledge_chunks c, q
    WHERE c.search @@ q.query AND ($2::text IS NULL OR c.project = $2) AND ($3::text[] IS NULL OR c.tags @> $3)
  ) h
  ORDER BY rank DESC, h.chunk_id
  LIMIT $4`;

const DEFAULT_LIMIT = 5;

/** The names in a query as a chunk would hold them: words with a dot, slash or underscore (DATABASE_URL, req.body, src/app.ts), lower-cased. */
export function namesIn(query: string): string[] {
  const words = query.split(/\s+/).map((w) => w.replace(/^[^\w./]+|[^\w/]+$/g, '').toLowerCase());
  return [...new Set(words.filter((w) => w.length >= 3 && /[./_]/.test(w) && /\w/.test(w)))];
}

/**
 * A local knowledge base per project: notes and the learnings of finished PIV loops, searched
 * with PostgreSQL full-text search. A project token adds to and searches its own project only.
 */
export class KnowledgeService {
  constructor(private readonly deps: KnowledgeServiceDeps) {}

  async add(principal: Principal, input: AddKnowledgeInput): Promise<{ id: number; project: string; title: string; chunks: number; tags: string[]; created: boolean }> {
    this.authorize(principal, input.project);
    const chunks = chunkText(input.text);
    if (chunks.length === 0) throw invalidInput('the text is empty; give the knowledge to store', { field: 'text' });
    const tags = [...new Set(input.tags ?? [])].sort();
    return this.deps.db.transaction(async (tx) => {
      await this.deps.projects.hold(input.project, tx);
      // Its chunks go with it (ON DELETE CASCADE).
      if (input.key !== undefined) await tx.query('DELETE FROM knowledge_docs WHERE key = $1', [input.key]);
      // The same note stored again (a retried call, an agent saving what it saved before) would only crowd the results.
      else {
        const same = await this.sameNote(tx, input.project, input.title, tags, chunks);
        if (same !== undefined) return { id: same, project: input.project, title: input.title, chunks: chunks.length, tags, created: false };
      }
      const { rows } = await tx.query<{ id: number | string }>(
        'INSERT INTO knowledge_docs (project, title, tags, source, created_by, created_at, key) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id',
        [input.project, input.title, tags, input.source ?? 'manual', principal.actor, this.deps.clock.now(), input.key ?? null],
      );
      const id = Number(rows[0]!.id);
      for (const [i, text] of chunks.entries()) {
        await tx.query('INSERT INTO knowledge_chunks (doc_id, project, chunk_index, title, text, tags) VALUES ($1, $2, $3, $4, $5, $6)', [id, input.project, i, input.title, text, tags]);
      }
      await this.deps.audit.record({ actor: principal.actor, action: 'knowledge.add', target: input.project, outcome: 'ok', detail: { id, chunks: chunks.length } }, tx);
      return { id, project: input.project, title: input.title, chunks: chunks.length, tags, created: true };
    });
  }

  private async sameNote(q: Queryable, project: string, title: string, tags: string[], chunks: string[]): Promise<number | undefined> {
    const { rows } = await q.query<{ id: number | string }>(
      `SELECT d.id FROM knowledge_docs d
       WHERE d.project = $1 AND d.title = $2 AND d.tags = $3::text[] AND d.key IS NULL
         AND (SELECT array_agg(c.text ORDER BY c.chunk_index) FROM knowledge_chunks c WHERE c.doc_id = d.id) = $4::text[]
       ORDER BY d.id LIMIT 1`,
      [project, title, tags, chunks],
    );
    return rows[0] && Number(rows[0].id);
  }

  /** Removes one document and its chunks: a note that is wrong or outdated would keep being found. */
  async delete(principal: Principal, id: number): Promise<{ id: number; project: string; title: string; chunks: number }> {
    return this.deps.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ project: string; title: string; chunks: number }>(
        'SELECT d.project, d.title, (SELECT count(*)::int FROM knowledge_chunks c WHERE c.doc_id = d.id) AS chunks FROM knowledge_docs d WHERE d.id = $1 FOR UPDATE',
        [id],
      );
      const doc = rows[0];
      // Another project's note is as absent to a project token as one that never was: its id tells nothing.
      if (!doc || !mayUse(principal, doc.project)) throw notFound(`no knowledge document ${id}; search_knowledge shows each result's docId`, { id });
      await tx.query('DELETE FROM knowledge_docs WHERE id = $1', [id]);
      await this.deps.audit.record({ actor: principal.actor, action: 'knowledge.delete', target: doc.project, outcome: 'ok', detail: { id, title: doc.title } }, tx);
      return { id, ...doc };
    });
  }

  /** The best-ranked chunks for a query; a project token's search is always limited to its own project. */
  async search(principal: Principal, input: SearchInput): Promise<{ query: string; results: KnowledgeHit[] }> {
    const project = this.scope(principal, input.project);
    // A misspelt project would answer "nothing found", as if it had no notes.
    if (input.project !== undefined) await this.deps.projects.get(input.project);
    const { rows } = await this.deps.db.query<HitRow>(SEARCH_SQL, [input.query, project ?? null, input.tags?.length ? input.tags : null, input.limit ?? DEFAULT_LIMIT, namesIn(input.query)]);
    // Nothing found for a query search cannot use at all ("the a of") is no answer: say why, as for an empty one.
    if (rows.length === 0) await this.refuseUnsearchable(input.query);
    return {
      query: input.query,
      results: rows.map((r) => ({
        docId: Number(r.doc_id),
        chunkId: Number(r.chunk_id),
        project: r.project,
        title: r.title,
        chunk: r.chunk_index,
        tags: r.tags,
        // float4 from ts_rank; rounded so both backends print the same figure.
        rank: Math.round(Number(r.rank) * 1e6) / 1e6,
        snippet: r.snippet,
        ...(input.withText ? { text: r.text } : {}),
      })),
    };
  }

  private async refuseUnsearchable(query: string): Promise<void> {
    const { rows } = await this.deps.db.query<{ terms: number }>(`SELECT numnode(${anyOf('knowledge_fold($1)')}) AS terms`, [query]);
    if (Number(rows[0]?.terms) > 0) return;
    throw invalidInput('query: holds only words search leaves out (common words such as the, a, of, and punctuation); give words of the topic', { field: 'query' });
  }

  /** Knowledge belongs to its project: listed before the project is removed, deleted with it. */
  projectData(): ProjectData {
    return {
      owned: (project, q) => this.owned(project, q),
      release: async (project, tx) => (await tx.query('DELETE FROM knowledge_docs WHERE project = $1', [project])).rowCount,
    };
  }

  private async owned(project: string, q: Queryable): Promise<OwnedItems> {
    const { rows } = await q.query<{ title: string; n: number | string }>(
      'SELECT title, count(*) OVER () AS n FROM knowledge_docs WHERE project = $1 ORDER BY id LIMIT 5',
      [project],
    );
    return { what: 'knowledge documents', count: Number(rows[0]?.n ?? 0), sample: rows.map((r) => `knowledge "${r.title}"`) };
  }

  private authorize(principal: Principal, project: string): void {
    assertOwnProject(principal, project, 'the knowledge');
  }

  private scope(principal: Principal, project: string | undefined): string | undefined {
    if (principal.role === 'admin') return project;
    if (project !== undefined) this.authorize(principal, project);
    return principal.project;
  }
}
