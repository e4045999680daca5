// Responses whose body is a string already in memory (every JSON answer `json()` builds) remember
// that string here, so the Node binding can write it in one call instead of pumping the web stream
// chunk by chunk: the stream adds several promise turns per response, which is most of what the
// HTTP layer costs on a small page.
//
// Under the Node binding the web body is usually never read at all, yet building it (a USVString
// check over the whole text, its UTF-8 encoding, a ReadableStream) costs as much as serialising a
// page. While the handler builds an answer for the Node binding, `textResponse` therefore makes a
// {@link DeferredTextResponse}, which builds that body only when something reads it.

const texts = new WeakMap<Response, string>();

// A registered symbol, not `instanceof`: the CommonJS build bundles each entry point with its own
// copy of this module, and the binding (node) must read answers the profiles (index) built.
const DEFERRED_TEXT = Symbol.for('@eventlog/http.deferredText');

let deferring = false;

/**
 * Calls `build` (synchronous) with body deferral on when `defer` is true. Only the Node binding's
 * requests turn it on: under Node every reader of a Response goes through its public members,
 * which {@link DeferredTextResponse} serves, while other runtimes read a Response's internals. @internal
 */
export function withDeferredBodies<T>(defer: boolean, build: () => T): T {
  if (!defer) return build();
  deferring = true;
  try {
    return build();
  } finally {
    deferring = false;
  }
}

/**
 * A Response carrying a string body that it turns into a real web body only when one of the body
 * members is used; until then it is a body-less Response with the same status and headers.
 */
class DeferredTextResponse extends Response {
  readonly #text: string;
  #real: Response | undefined;

  constructor(text: string, init: ResponseInit) {
    super(null, init);
    // What `new Response(text)` adds when the init names no type.
    if (!this.headers.has('content-type')) this.headers.set('content-type', 'text/plain;charset=UTF-8');
    this.#text = text;
  }

  #body(): Response {
    this.#real ??= new Response(this.#text, { status: this.status, statusText: this.statusText, headers: this.headers });
    return this.#real;
  }

  [DEFERRED_TEXT](): string | undefined {
    return this.#real?.bodyUsed ? undefined : this.#text;
  }

  override get body(): ReadableStream<Uint8Array<ArrayBuffer>> | null {
    return this.#body().body;
  }
  override get bodyUsed(): boolean {
    return this.#real?.bodyUsed ?? false;
  }
  override arrayBuffer(): Promise<ArrayBuffer> {
    return this.#body().arrayBuffer();
  }
  override blob(): Promise<Blob> {
    return this.#body().blob();
  }
  override bytes(): Promise<Uint8Array<ArrayBuffer>> {
    return this.#body().bytes();
  }
  override formData(): Promise<FormData> {
    return this.#body().formData();
  }
  override json(): Promise<unknown> {
    return this.#body().json();
  }
  override text(): Promise<string> {
    return this.#body().text();
  }
  override clone(): Response {
    if (this.bodyUsed) return this.#body().clone();
    return new DeferredTextResponse(this.#text, { status: this.status, statusText: this.statusText, headers: this.headers });
  }
}

/** Builds a response with a string body and remembers the string. @internal */
export function textResponse(text: string, init: ResponseInit): Response {
  if (deferring) return new DeferredTextResponse(text, init);
  const response = new Response(text, init);
  texts.set(response, text);
  return response;
}

/** The string body of a response built by {@link textResponse}, if its body has not been read yet. @internal */
export function staticText(response: Response): string | undefined {
  const deferred = (response as Response & { [DEFERRED_TEXT]?: () => string | undefined })[DEFERRED_TEXT];
  if (typeof deferred === 'function') return deferred.call(response);
  const text = texts.get(response);
  return text !== undefined && !response.bodyUsed ? text : undefined;
}
