import type { EventInput, StoredEvent } from '../schema/event.js';

/** An open session and the event that opened it. */
export interface OpenSession {
  sessionId: string;
  type: string;
  startedAt: number;
  /** Milliseconds since it opened, by the log's clock. */
  durationMs: number;
  event: StoredEvent;
}

/** The result of closing a session. */
export interface ClosedSession {
  sessionId: string;
  startedAt: number;
  closedAt: number;
  durationMs: number;
  /** The opening event. */
  opened: StoredEvent;
  /** The closing event, when one was recorded. */
  closed: StoredEvent | null;
}

/** Filter of {@link SessionsReader.list}. */
export interface SessionFilter {
  type?: string | readonly string[];
  tenantId?: string | readonly string[];
  actorId?: string | readonly string[];
  targetType?: string | readonly string[];
  targetId?: string | readonly string[];
}

/** Input of {@link SessionsReader.list}. */
export interface SessionListInput {
  filter?: SessionFilter;
  /** @default 100 */
  limit?: number;
  /** @default 0 */
  offset?: number;
}

/** Reading open sessions. */
export interface SessionsReader {
  /** Open sessions, oldest first. */
  list(input?: SessionListInput): Promise<OpenSession[]>;
}

/** Opening, closing and listing live sessions (connections, DJs, mounts). */
export interface SessionsApi extends SessionsReader {
  /** Records the opening event and marks the session open. */
  open(event: EventInput & { sessionId: string }): Promise<OpenSession>;
  /**
   * Marks a session closed; records `closing` (inheriting actor, target, tenant, ip and session id
   * from the opening event, with `durationMs` set) when given. Resolves null for an unknown id.
   */
  close(sessionId: string, closing?: Partial<EventInput> & { type: string; time?: number | Date }): Promise<ClosedSession | null>;
}
