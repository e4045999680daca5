import type { ActorInput, EventLog } from '@eventlog/core';

/** What {@link requestLogger} leaves on a request for {@link audit}. @internal */
export interface RequestContext {
  log: EventLog;
  user: () => ActorInput | null;
}

const contexts = new WeakMap<object, RequestContext>();

/** @internal */
export function setRequestContext(req: object, context: RequestContext): void {
  contexts.set(req, context);
}

/** @internal */
export function getRequestContext(req: object): RequestContext | undefined {
  return contexts.get(req);
}
