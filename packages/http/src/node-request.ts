// A registered symbol, not `instanceof`: the CommonJS build bundles each entry point with its own
// copy of this module, and the handler (index) must recognise the binding's (node) requests.
const NODE_REQUEST = Symbol.for('@eventlog/http.NodeRequest');

/** Whether the Node binding built this request. @internal */
export function isNodeRequest(request: Request): boolean {
  return (request as Request & { [NODE_REQUEST]?: boolean })[NODE_REQUEST] === true;
}

/**
 * The Request the Node binding builds. Its `signal` is the binding's own, aborted when the client
 * disconnects: handing that signal to the Request constructor instead would make it follow the
 * signal through a weak reference and a finalization registry, a cost paid on every request. It
 * also tells the handler that the answer goes to `writeResponse` under Node (see static-body.ts).
 * @internal
 */
export class NodeRequest extends Request {
  readonly [NODE_REQUEST] = true;
  readonly #signal: AbortSignal;

  constructor(url: string, init: RequestInit, signal: AbortSignal) {
    super(url, init);
    this.#signal = signal;
  }

  override get signal(): AbortSignal {
    return this.#signal;
  }
}
