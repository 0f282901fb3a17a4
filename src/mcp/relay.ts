/**
 * `supervisor mcp` while the daemon runs: a thin relay that passes each JSON-RPC
 * message from stdin to the daemon's `/mcp/<project>` endpoint and writes what
 * comes back (JSON, or the events of an SSE stream) to stdout, one message per
 * line. The daemon answers every call, so stdio and HTTP cannot differ; and the
 * relay loads no catalog, no validator and no MCP SDK, so Claude Code's start of
 * a session costs little more than starting node.
 */
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { dataDir, daemonTarget, refusedTokenInEnvTerms } from '../core/daemon-info.js';
import { LIVENESS, watchDaemon, type Liveness } from '../core/daemon-liveness.js';
import { isErrorCode, SupervisorError } from '../core/errors.js';
import { InFlight, readFrames, rpcError, type JsonRpcMessage } from './stdio-frames.js';

export interface RelayTarget {
  url: string;
  token: string;
  project: string;
  toolsets?: string;
  readonly: boolean;
}

/** How long closing stdin waits for answers still on their way. */
const DRAIN_MS = 10_000;

/** The daemon's liveness (core/daemon-liveness.ts), and how long the start's check of the endpoint waits. */
export interface RelayLiveness extends Liveness {
  /**
   * A daemon alive answers the start's check at once; one that does not is no refusal (the
   * session starts, and its calls say the daemon is silent), but waiting the calls' whole limit
   * held Claude Code's start of the session ~25 s.
   */
  checkMs: number;
}

const RELAY_LIVENESS: RelayLiveness = { ...LIVENESS, checkMs: 3_000 };
const PROJECT = /^[a-z][a-z0-9-]{0,39}$/;

/** `--project p [--toolsets a,b] [--readonly]`, or undefined when the words are not exactly that (the full CLI then explains). */
function relayOptions(words: string[]): Omit<RelayTarget, 'url' | 'token'> | undefined {
  const options: Record<string, string | true> = {};
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    const [flag, inline] = word.split(/=(.*)/s, 2) as [string, string | undefined];
    if (flag === '--readonly' && inline === undefined) options.readonly = true;
    else if (flag === '--project' || flag === '--toolsets') {
      const value = inline ?? words[++i];
      if (value === undefined || value.startsWith('--')) return undefined;
      options[flag.slice(2)] = value;
    } else return undefined;
  }
  const project = options.project;
  if (typeof project !== 'string' || !PROJECT.test(project)) return undefined;
  return { project, toolsets: typeof options.toolsets === 'string' ? options.toolsets : undefined, readonly: options.readonly === true };
}

/** An answer of the daemon, read whole (MCP answers here are small and end with the call). */
interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/**
 * Sends with node:http rather than fetch: fetch loads undici on first use, ~50 ms and
 * ~5 MB that every Claude Code session would pay at start. https (a daemon elsewhere)
 * loads node:https when asked for. No body: a GET.
 */
async function send(url: URL, headers: Record<string, string>, body: string | undefined, agent: Agent | undefined, signal: AbortSignal): Promise<Answer> {
  const sendOn = url.protocol === 'https:' ? (await import('node:https')).request : request;
  return new Promise((resolve, reject) => {
    const method = body === undefined ? 'GET' : 'POST';
    const req = sendOn(url, { method, headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) }, agent, signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The JSON-RPC messages of an answer: a JSON body (one or several), or the `data:` events of an SSE stream. */
function messagesOf(response: Answer): JsonRpcMessage[] {
  const text = response.text;
  if (text.trim() === '') return [];
  if (!(response.headers['content-type'] ?? '').startsWith('text/event-stream')) {
    const parsed = JSON.parse(text) as JsonRpcMessage | JsonRpcMessage[];
    return Array.isArray(parsed) ? parsed : [parsed];
  }
  const out: JsonRpcMessage[] = [];
  for (const event of text.split(/\r?\n\r?\n/)) {
    const data = event.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
    if (data !== '') out.push(JSON.parse(data) as JsonRpcMessage);
  }
  return out;
}

/**
 * The answer's one message as the daemon serialized it, on one line: a JSON body, or the data of
 * an SSE stream's only event. Undefined for anything else (a batch, several events, pretty JSON),
 * which is read message by message.
 */
function oneMessageLine(response: Answer): string | undefined {
  const { text } = response;
  if ((response.headers['content-type'] ?? '').startsWith('text/event-stream')) {
    const data = text.split(/\r?\n/).filter((l) => l.startsWith('data:'));
    if (data.length !== 1 || text.trimEnd().split(/\r?\n\r?\n/).length !== 1) return undefined;
    const line = data[0]!.slice(5).trimStart();
    return line.startsWith('{') ? line : undefined;
  }
  return text.startsWith('{') && !text.includes('\n') ? text : undefined;
}

function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The daemon's own refusal of a request (our REST error shape, not the MCP SDK's JSON-RPC one), if the answer is one. */
function restErrorOf(response: Answer): { code: string; message: string; details?: Record<string, unknown> } | undefined {
  const body = parseOrUndefined(response.text) as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined;
  const error = body?.error;
  if (typeof error?.code !== 'string' || typeof error.message !== 'string') return undefined;
  return { code: error.code, message: error.message, details: error.details as Record<string, unknown> | undefined };
}

/** The daemon's refusal as our error, a refused SUPERVISOR_TOKEN named as such (see refusedTokenInEnvTerms); a code this build does not know as the daemon said it. */
function refusalIn(response: Answer, env: NodeJS.ProcessEnv): ReturnType<typeof restErrorOf> {
  const said = restErrorOf(response);
  if (!said || !isErrorCode(said.code)) return said;
  return refusedTokenInEnvTerms(new SupervisorError(said.code, said.message, said.details ?? {}), env) as SupervisorError;
}

/** An HTTP refusal (our REST error shape) as the JSON-RPC error the client is waiting for. */
function refusalOf(response: Answer, id: JsonRpcMessage['id'], env: NodeJS.ProcessEnv): JsonRpcMessage {
  const error = refusalIn(response, env);
  const reason = error ? `${error.code}: ${error.message}` : `HTTP ${response.status}`;
  return rpcError(id, -32001, `the supervisor daemon refused the request: ${reason}`);
}

/** Refusals of the endpoint itself (token, project, toolsets): no call of the session could succeed. */
const ENDPOINT_REFUSALS = new Set(['invalid_input', 'unauthorized', 'forbidden', 'not_found']);

/** Where the daemon is now and the credential to present: read again when a call finds the daemon gone or the credential refused. */
export type FindDaemon = () => Promise<{ url: string; token: string } | undefined>;

export class Relay {
  private protocolVersion: string | undefined;
  readonly inFlight = new InFlight();
  /** One connection reused for the session's calls, dropped after 30 s idle (before the daemon drops it, at 72 s); http only. */
  private readonly agent = new Agent({ keepAlive: true, timeout: 30_000 });
  private endpoint: URL;
  /** The daemon let the start's check go unanswered, and has said nothing since: calls ask /healthz at once. */
  private silent = false;

  constructor(
    private target: RelayTarget,
    /** Writes one serialized JSON-RPC message (no line end). */
    private readonly writeLine: (line: string) => void,
    private readonly findDaemon: FindDaemon = async () => undefined,
    /** Where SUPERVISOR_TOKEN came from, if the token presented is that one: its refusal is said in those terms. */
    private readonly env: NodeJS.ProcessEnv = {},
    private readonly liveness: RelayLiveness = RELAY_LIVENESS,
  ) {
    this.endpoint = new URL(`${target.url}/mcp/${target.project}`);
  }

  /**
   * After a restart the daemon listens on another port and presents another local credential
   * (daemons/<pid>.json has both): a relay that kept the old ones failed every call for the rest of
   * the Claude Code session. True when there is a different daemon to try.
   */
  private async retarget(): Promise<boolean> {
    const now = await this.findDaemon().catch(() => undefined);
    if (!now || (now.url === this.target.url && now.token === this.target.token)) return false;
    this.target = { ...this.target, ...now };
    this.endpoint = new URL(`${now.url}/mcp/${this.target.project}`);
    return true;
  }

  /**
   * One POST of the message (a GET without one); after a refused connection or credential, once
   * more to the daemon there is now. Given up when the daemon stops answering (see Liveness).
   */
  private async exchange(body: string | undefined, deadline?: AbortSignal): Promise<Answer> {
    const stalled = new AbortController();
    const unwatch = this.watch(stalled);
    const signal = deadline ? AbortSignal.any([stalled.signal, deadline]) : stalled.signal;
    const once = () => send(this.endpoint, this.headers(), body, this.endpoint.protocol === 'http:' ? this.agent : undefined, signal);
    try {
      let answer: Answer;
      try {
        answer = await once();
      } catch (err) {
        // Neither was the request delivered nor did anything run: safe to send again.
        if ((err as NodeJS.ErrnoException).code === 'ECONNREFUSED' && (await this.retarget())) return await once();
        throw err;
      }
      this.silent = false;
      return answer.status === 401 && (await this.retarget()) ? await once() : answer;
    } catch (err) {
      throw stalled.signal.aborted ? stalled.signal.reason : err;
    } finally {
      unwatch();
    }
  }

  /** Asks /healthz while the call is out (see core/daemon-liveness.ts); aborts `stalled` when it goes unanswered. Returns the stop. */
  private watch(stalled: AbortController): () => void {
    return watchDaemon(this.target.url, this.liveness, (reason) => stalled.abort(reason), this.silent ? 0 : this.liveness.everyMs);
  }

  private headers(): Record<string, string> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.target.token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'x-supervisor-via': 'mcp',
    };
    if (this.protocolVersion) headers['mcp-protocol-version'] = this.protocolVersion;
    if (this.target.toolsets) headers['x-supervisor-toolsets'] = this.target.toolsets;
    if (this.target.readonly) headers['x-supervisor-readonly'] = 'true';
    return headers;
  }

  private send(message: JsonRpcMessage): void {
    this.inFlight.settle(message);
    this.writeLine(JSON.stringify(message));
  }

  /**
   * Asks the daemon whether it serves this endpoint, before the session starts: a GET, which
   * the daemon checks (token, project, toolsets) as it does every message and the stateless
   * MCP server then declines (405). The daemon's refusal comes back, to be said on stderr
   * with a failing exit: answered message by message instead, it left the relay running and
   * exiting 0 for a project or toolset that does not exist. A daemon that does not answer
   * is no refusal: each call then says so, as later in a session.
   */
  async check(): Promise<SupervisorError | undefined> {
    const deadline = AbortSignal.timeout(this.liveness.checkMs);
    const answer = await this.exchange(undefined, deadline).catch(() => {
      if (deadline.aborted) this.silent = true;
      return undefined;
    });
    const error = answer && refusalIn(answer, this.env);
    return error instanceof SupervisorError && ENDPOINT_REFUSALS.has(error.code) ? error : undefined;
  }

  /** Passes one message on and writes every message that comes back. */
  async forward(message: JsonRpcMessage): Promise<void> {
    this.inFlight.begin(message);
    const id = message.method !== undefined ? message.id : undefined;
    let response: Answer;
    try {
      response = await this.exchange(JSON.stringify(message));
    } catch (err) {
      if (id !== undefined) this.send(rpcError(id, -32000, `the supervisor daemon at ${this.target.url} is not answering (${(err as Error).message}); is it running? \`supervisor daemon status\``));
      return;
    }
    try {
      if ((response.status < 200 || response.status > 299) && response.status !== 202) {
        if (id !== undefined) this.send(refusalOf(response, id, this.env));
        return;
      }
      // One JSON answer on one line goes out as the daemon wrote it: parsing and writing again the
      // tools/list answer (150 KB with the output schemas) cost a fresh relay ~11 ms of every session's start.
      const single = id !== undefined && message.method !== 'initialize' ? oneMessageLine(response) : undefined;
      if (id !== undefined && single !== undefined) {
        this.inFlight.settle({ jsonrpc: '2.0', id });
        this.writeLine(single);
        return;
      }
      for (const answer of messagesOf(response)) {
        const version = (answer.result as { protocolVersion?: unknown } | undefined)?.protocolVersion;
        if (message.method === 'initialize' && typeof version === 'string') this.protocolVersion = version;
        this.send(answer);
      }
    } catch (err) {
      if (id !== undefined) this.send(rpcError(id, -32603, `could not read the daemon's answer: ${(err as Error).message}`));
    }
  }
}

/**
 * Relays stdio to the daemon when one runs and the arguments are plain; resolves
 * false (doing nothing) otherwise, so the full CLI can serve or explain. Throws the
 * daemon's refusal of the endpoint (a project or toolset it does not have, a token it
 * refuses) before reading stdin: the caller says it on stderr and exits non-zero.
 */
export async function relayIfDaemon(words: string[], env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const options = relayOptions(words);
  const daemon = options && (await daemonTarget(env, dataDir(env)));
  if (!options || !daemon) return false;
  const relay = new Relay(
    { ...daemon, ...options },
    (line) => process.stdout.write(`${line}\n`),
    () => daemonTarget(env, dataDir(env)),
    env,
  );
  const refused = await relay.check();
  if (refused) throw refused;
  readFrames(
    process.stdin,
    (frame) => {
      if (frame.kind === 'refused') process.stdout.write(`${JSON.stringify(frame.reply)}\n`);
      else void relay.forward(frame.message);
    },
    () => {
      // Stdin closed: finish what is on its way (bounded), then leave.
      void relay.inFlight.drained(DRAIN_MS).then(() => process.exit(0));
    },
  );
  return true;
}
