// What a PIV loop takes for the supervisor's own files in a checkout, never a feature's change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSupervisorWritten } from '../../src/instructions/written-files.js';

test("the managed files, their backups, the project's layer folder, and the temp files a killed write leaves of them are the supervisor's", () => {
  for (const path of [
    'CLAUDE.md',
    'AGENTS.md',
    '.mcp.json',
    'CLAUDE.md.20261202-052015.bak',
    'CLAUDE.md.20261202-052015_002.bak',
    'CLAUDE.md.20261202-052015-2.bak',
    '.CLAUDE.md.0123456789ab.tmp',
    '.CLAUDE.md.20261202-052015.bak.0123456789ab.tmp',
    '..mcp.json.0123456789ab.tmp',
    '.claude-specific/adopted-2026-12-02.md',
    '.claude-specific/.adopted-2026-12-02.md.0123456789ab.tmp',
  ]) {
    assert.equal(isSupervisorWritten(path), true, path);
  }
  for (const path of ['README.md', '.notes.md.0123456789ab.tmp', 'src/CLAUDE.md', '.CLAUDE.md.tmp', 'CLAUDE.md.bak']) assert.equal(isSupervisorWritten(path), false, path);
});
