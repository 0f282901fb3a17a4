// Copies what tsc does not: each domain's SQL migrations (src/<domain>/migrations/*.sql)
// into dist/, next to the compiled manifest that points at them.
import { cpSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

for (const domain of readdirSync('src', { withFileTypes: true })) {
  const from = join('src', domain.name, 'migrations');
  if (domain.isDirectory() && existsSync(from)) cpSync(from, join('dist', domain.name, 'migrations'), { recursive: true, filter: (f) => !f.includes('.') || f.endsWith('.sql') });
}
