import { z } from 'zod';
import { DESTRUCTIVE, operationsOf, READ, WRITE } from '../catalog/operation.js';
import { projectName } from '../core/names.js';
import type { KnowledgeService } from './service.js';

const operation = operationsOf<KnowledgeService>('knowledge');

const noNul = (s: string) => !s.includes('\0');
const project = projectName.describe('Project name');
const tag = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,39}$/, 'a tag is 1-40 characters: lowercase letters, digits, _, . and -');
const tags = z.array(tag).max(20);

export const knowledgeOperations = [
  operation({
    name: 'add_knowledge',
    title: 'Add knowledge',
    description: "Store a note in a project's knowledge (long text is cut into chunks): decisions, gotchas, how things are done. search_knowledge finds it.",
    access: 'any',
    annotations: WRITE,
    rest: { method: 'POST', path: '/knowledge' },
    cli: { command: ['knowledge', 'add'], args: ['project', 'title', 'text'], stdin: 'text', files: ['text'] },
    input: z.object({
      project,
      title: z.string().min(1).max(200).refine(noNul, 'must not contain NUL bytes').describe('Short title; weighs most in search'),
      text: z.string().max(200_000).refine(noNul, 'must not contain NUL bytes').describe('The knowledge, Markdown'),
      tags: tags.optional().describe('Labels to filter by'),
    }),
    output: z.object({
      id: z.number().int(),
      project: z.string(),
      title: z.string(),
      chunks: z.number().int().describe('Chunks the text was cut into'),
      tags: z.array(z.string()),
      created: z.boolean().describe('False when the same note (title, text and tags) was already stored: its id, nothing added'),
    }),
    handler: ({ svc, principal }, input) => svc.add(principal, input),
  }),
  operation({
    name: 'delete_knowledge',
    title: 'Delete knowledge',
    description: 'Delete a note that is wrong or outdated, with all its chunks (docId from search_knowledge or add_knowledge).',
    access: 'any',
    annotations: DESTRUCTIVE,
    rest: { method: 'DELETE', path: '/knowledge' },
    cli: { command: ['knowledge', 'delete'], args: ['id'] },
    input: z.object({ id: z.number().int().positive().describe('The document id') }),
    output: z.object({ id: z.number().int(), project: z.string(), title: z.string(), chunks: z.number().int().describe('Chunks deleted with it') }),
    handler: ({ svc, principal }, input) => svc.delete(principal, input.id),
  }),
  operation({
    name: 'search_knowledge',
    title: 'Search knowledge',
    description: "Full-text search of a project's knowledge and past PIV loop learnings; best chunks first with highlighted snippets. Search before solving a problem twice.",
    access: 'any',
    annotations: READ,
    rest: { method: 'GET', path: '/knowledge/search' },
    cli: { command: ['knowledge', 'search'], args: ['query'], textArg: 'query' },
    input: z.object({
      query: z.string().max(500).refine((q) => q.trim() !== '', 'must hold a word to search for').refine(noNul, 'must not contain NUL bytes').describe('Words or a question'),
      project: project.optional().describe('Only this project (a project token: always its own)'),
      tags: tags.optional().describe('Only chunks with all these tags'),
      limit: z.number().int().min(1).max(50).default(5).describe('Results'),
      withText: z.boolean().default(false).describe('Include each chunk whole'),
    }),
    output: z.object({
      query: z.string(),
      results: z.array(
        z.object({
          docId: z.number().int(),
          chunkId: z.number().int(),
          project: z.string(),
          title: z.string(),
          chunk: z.number().int(),
          tags: z.array(z.string()),
          rank: z.number().describe('Distinct query words matched, plus a fraction for how well: higher first'),
          snippet: z.string().describe('Best passages, matches between ** and **'),
          text: z.string().optional(),
        }),
      ),
    }),
    handler: ({ svc, principal }, input) => svc.search(principal, input),
  }),
];
