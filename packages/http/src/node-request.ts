// A registered symbol, not `instanceof`: the CommonJS build bundles each entry point with its own
// copy of this module, and the handler (index) must recognise the binding's (node) requests.
const NODE_REQUEST = Symbol.for('@eventlog/http.NodeRequest');

/** Whether the Node binding built this request. @internal */
export function isNodeRequest(request: Request): boolean {
  return (request as Request & { [NODE_REQUEST]?: boolean })[NODE_REQUEST] === true;
}

const PARSED_URL = Symbol.for('@eventlog/http.NodeRequest.url');

/**
 * The URL the Node binding parsed for this request (its `href` is `request.url`), so the handler
 * does not parse the URL a third time; undefined for any other request. @internal
 */
export function parsedUrlOf(request: Request): URL | undefined {
  return (request as Request & { [PARSED_URL]?: URL })[PARSED_URL];
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
  readonly [PARSED_URL]: URL;
  readonly #signal: AbortSignal;

  constructor(url: URL, init: RequestInit | undefined, signal: AbortSignal) {
    super(url.href, init);
    this[PARSED_URL] = url;
    this.#signal = signal;
  }

  override get signal(): AbortSignal {
    return this.#signal;
  }
}
