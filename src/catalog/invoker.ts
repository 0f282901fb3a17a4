/**
 * What every adapter calls. In-process (`LocalInvoker`) or through the daemon's
 * REST API (`RemoteInvoker`): same inputs, same outputs, same errors.
 */
export interface Invoker {
  invoke(operation: string, input: unknown): Promise<Record<string, unknown>>;
}
