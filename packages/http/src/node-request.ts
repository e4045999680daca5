/**
 * The Request the Node binding builds. Its `signal` is the binding's own, aborted when the client
 * disconnects: handing that signal to the Request constructor instead would make it follow the
 * signal through a weak reference and a finalization registry, a cost paid on every request. It
 * also tells the handler that the answer goes to `writeResponse` under Node (see static-body.ts).
 * @internal
 */
export class NodeRequest extends Request {
  readonly #signal: AbortSignal;

  constructor(url: string, init: RequestInit, signal: AbortSignal) {
    super(url, init);
    this.#signal = signal;
  }

  override get signal(): AbortSignal {
    return this.#signal;
  }
}
