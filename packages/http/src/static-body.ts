// Responses whose body is a string already in memory (every JSON answer `json()` builds) remember
// that string here, so the Node binding can write it in one call instead of pumping the web stream
// chunk by chunk: the stream adds several promise turns per response, which is most of what the
// HTTP layer costs on a small page.

const texts = new WeakMap<Response, string>();

/** Builds a response with a string body and remembers the string. @internal */
export function textResponse(text: string, init: ResponseInit): Response {
  const response = new Response(text, init);
  texts.set(response, text);
  return response;
}

/** The string body of a response built by {@link textResponse}, if its body has not been read yet. @internal */
export function staticText(response: Response): string | undefined {
  const text = texts.get(response);
  return text !== undefined && !response.bodyUsed ? text : undefined;
}
