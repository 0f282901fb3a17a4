import { z } from 'zod';

/** The admin scope's name: `/mcp/meta`, `--project meta`, `meta/…` secret paths. */
export const META = 'meta';

/** Project names appear in secret paths, MCP URLs and tool scopes, so they stay short and URL-safe. */
export const projectName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,39}$/, 'a project name is 1-40 characters: lowercase letters, digits and -, starting with a letter');

/** The project for services several projects use; like meta, every installation has it. */
export const SHARED = 'shared';
