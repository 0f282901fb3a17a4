import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { BIN, type ChildDaemon } from './daemon-child.js';
import { rssMb } from './proc.js';

const RUNS = 11;

const messages = [
  { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } },
  { jsonrpc: '2.0', method: 'notifications/initialized' },
  { jsonrpc: '2.0', id: 2, method: 'tools/list' },
];

/** One spawn of `supervisor mcp --project meta`: ms until the tools/list answer, and the process's RSS then. */
function once(daemon: ChildDaemon): Promise<{ ms: number; rss: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [BIN, 'mcp', '--project', 'meta'], { env: daemon.env, stdio: ['pipe', 'pipe', 'inherit'] });
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      if (buffer.includes('"id":2')) {
        const ms = performance.now() - started;
        const rss = rssMb(child.pid!);
        child.stdin.end();
        child.once('exit', () => resolve({ ms, rss }));
      }
    });
    child.once('error', reject);
    child.stdin.write(messages.map((m) => JSON.stringify(m)).join('\n') + '\n');
  });
}

/** `node -e 0`: spawn to exit, the floor for any Node command on this machine right now. */
function nodeAlone(): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', () => resolve(performance.now() - started));
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function benchMcpStdio(daemon: ChildDaemon): Promise<void> {
  const runs = [];
  const floor = [];
  // Interleaved, so load from elsewhere hits both alike.
  for (let i = 0; i < RUNS; i++) {
    runs.push(await once(daemon));
    floor.push(await nodeAlone());
  }
  const ms = runs.map((r) => r.ms);
  console.log(`\nMCP stdio relay (daemon running): spawn → tools/list answer, ${RUNS} runs`);
  console.log(`  supervisor mcp   median ${median(ms).toFixed(0)} ms  (min ${Math.min(...ms).toFixed(0)}, max ${Math.max(...ms).toFixed(0)})  RSS ${Math.max(...runs.map((r) => r.rss)).toFixed(0)} MB`);
  console.log(`  node -e 0        median ${median(floor).toFixed(0)} ms`);
  console.log(`  ratio            ${(median(ms) / median(floor)).toFixed(2)}×`);
}
