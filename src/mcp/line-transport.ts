import type { JSONRPCMessage, Transport } from '@modelcontextprotocol/server';
import type { Readable, Writable } from 'node:stream';
import { InFlight, readFrames, type JsonRpcMessage } from './stdio-frames.js';

/**
 * The MCP SDK's transport over stdin/stdout, framed by stdio-frames: oversized,
 * malformed and batch lines are answered with JSON-RPC errors and reading goes on;
 * when input ends, `ended` resolves once every request read before it has its answer.
 */
export class LineTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  private readonly inFlight = new InFlight();
  private endedResolve!: () => void;
  /** Input ended and every request before it was answered (or `drainMs` passed). */
  readonly ended = new Promise<void>((resolve) => (this.endedResolve = resolve));

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    private readonly drainMs = 10_000,
  ) {}

  async start(): Promise<void> {
    readFrames(
      this.input,
      (frame) => {
        if (frame.kind === 'refused') return this.write(frame.reply);
        this.inFlight.begin(frame.message);
        this.onmessage?.(frame.message as JSONRPCMessage);
      },
      () => void this.inFlight.drained(this.drainMs).then(() => this.endedResolve()),
    );
  }

  async send(message: JSONRPCMessage): Promise<void> {
    this.inFlight.settle(message as JsonRpcMessage);
    this.write(message as JsonRpcMessage);
  }

  private write(message: JsonRpcMessage): void {
    this.output.write(`${JSON.stringify(message)}\n`);
  }

  async close(): Promise<void> {
    this.onclose?.();
  }
}
