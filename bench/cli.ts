import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { BIN, type ChildDaemon } from './daemon-child.js';

const RUNS = 9;

/** Wall time of one process from spawn to exit. */
function wall(args: string[], env: NodeJS.ProcessEnv, stdin?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { env, stdio: ['pipe', 'ignore', 'inherit'] });
    child.stdin.end(stdin ?? '');
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(performance.now() - started) : reject(new Error(`${args.join(' ')} exited ${code}`))));
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * `supervisor --help` and `supervisor secrets get` (through the daemon) next to
 * `node -e 0` in the same run, interleaved so background load hits all three alike.
 * The goal is at most 3× node's own start.
 */
export async function benchCli(daemon: ChildDaemon): Promise<void> {
  await wall([BIN, 'secrets', 'set', 'project/bench/cli'], daemon.env, 'value');
  const cases: Array<[string, string[]]> = [
    ['node -e 0', ['-e', '0']],
    ['supervisor --help', [BIN, '--help']],
    ['supervisor secrets get', [BIN, 'secrets', 'get', 'project/bench/cli']],
  ];
  const times = cases.map(() => [] as number[]);
  for (let i = 0; i < RUNS; i++) for (const [index, [, args]] of cases.entries()) times[index]!.push(await wall(args, daemon.env));
  const base = median(times[0]!);
  console.log(`\nCLI start-up (daemon running), median of ${RUNS} interleaved runs`);
  for (const [index, [name]] of cases.entries()) {
    const ms = median(times[index]!);
    console.log(`  ${name.padEnd(24)} ${ms.toFixed(0).padStart(5)} ms  ${(ms / base).toFixed(2)}× node -e 0`);
  }
}
