import type { ActorInput, EventLog } from '@eventlog/core';

/**
 * An event log with any preset types (`EventLog<T>` with registered types is not assignable to the
 * default `EventLog`). @internal
 */
// biome-ignore lint/suspicious/noExplicitAny: `any` is the only type argument every EventLog<T> is assignable to.
export type AnyEventLog = EventLog<any>;

/** What {@link requestLogger} leaves on a request for {@link audit}. @internal */
export interface RequestContext {
  log: AnyEventLog;
  user: () => ActorInput | null;
}

const contexts = new WeakMap<object, RequestContext>();
const served = new WeakSet<object>();

/** @internal */
export function setRequestContext(req: object, context: RequestContext): void {
  contexts.set(req, context);
}

/** @internal */
export function getRequestContext(req: object): RequestContext | undefined {
  return contexts.get(req);
}

/** Marks a request that an `eventlogRouter` answers, so the request logger can leave it out of the access log. @internal */
export function markEventlogRequest(req: object): void {
  served.add(req);
}

/** Whether an `eventlogRouter` answered the request. @internal */
export function isEventlogRequest(req: object): boolean {
  return served.has(req);
}
