import type { ActorInput } from '@eventlog/core';
import type { AnyEventLog } from '@eventlog/http';

/** What {@link requestLogger} leaves on a request for {@link audit}. @internal */
export interface RequestContext {
  log: AnyEventLog;
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
