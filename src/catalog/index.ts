import { authOperations } from '../auth/operations.js';
import { keyOperations } from '../secrets/key-operations.js';
import { secretOperations } from '../secrets/operations.js';
import { portOperations } from '../ports/operations.js';
import { cloudflareOperations } from '../cloudflare/operations.js';
import { Catalog } from './catalog.js';

/** Every operation of every domain. Adding a domain means adding its list here. */
export const catalog = new Catalog([...secretOperations, ...keyOperations, ...authOperations, ...portOperations, ...cloudflareOperations]);
