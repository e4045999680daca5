import { eventlogAuditPreset, type Principal } from '@eventlog/core';
import type { Profile } from '@eventlog/http';
import { type NativeAuthenticate, native } from '@eventlog/http/native';
import { createViewerToken, viewerTokenAuth } from '@eventlog/http/viewer-token';
import { viewer } from '@eventlog/viewer';
import { env } from './env.js';

/** Where every example serves the log viewer. */
export const VIEWER_PATH = '/eventlog/viewer';

/** The audit types the native API records (eventlog.viewed, eventlog.exported); every example registers them. */
export const viewerPresets = [eventlogAuditPreset];

/** The secret that signs the examples' viewer tokens (EVENTLOG_VIEWER_SECRET, at least 32 bytes). */
export function viewerSecret(): string {
  return env('EVENTLOG_VIEWER_SECRET', 'eventlog-example-viewer-secret-change-me');
}

/** The native API's hook for examples: viewer tokens, and the host's own credentials through `fallback`. */
export function viewerAuthenticate(fallback?: NativeAuthenticate): NativeAuthenticate {
  return viewerTokenAuth({ secret: viewerSecret(), ...(fallback ? { fallback } : {}) });
}

/**
 * The profiles that put the viewer in an example: the native API (viewer tokens only) when the
 * example does not mount one itself, and the page.
 */
export function viewerProfiles(title: string, mounted: readonly Profile[]): Profile[] {
  const hasNative = mounted.some((p) => p.name === 'native');
  return [...(hasNative ? [] : [native({ authenticate: viewerAuthenticate(), title })]), viewer({ path: VIEWER_PATH, title })];
}

/** Banner lines: the viewer's URL with a ready admin token (valid 24 hours). */
export async function viewerBanner(base: string, principal: Principal = { role: 'admin', id: 'example' }): Promise<string[]> {
  const token = await createViewerToken({ secret: viewerSecret(), principal, ttl: '24h' });
  return [
    `log viewer (${principal.role}, link valid 24 h; EVENTLOG_VIEWER_SECRET signs the tokens):`,
    `  ${base}${VIEWER_PATH}#token=${token}`,
    '',
  ];
}
