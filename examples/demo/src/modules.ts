/**
 * What the demo is made of: the five product modules and the native API, in one list, so the demo
 * server and the scale benchmark (bench/scale.ts) mount and seed exactly the same thing.
 */
import { mediaCpExample } from '@eventlog/example-mediacp';
import { newApiExample } from '@eventlog/example-new-api';
import { proxyExample } from '@eventlog/example-proxy';
import { type ExampleModule, env, viewerAuthenticate } from '@eventlog/example-shared';
import { unifiAccessExample } from '@eventlog/example-unifi-access';
import { xuiOneExample } from '@eventlog/example-xui-one';
import { bearerToken, native, type Profile, safeEqual } from '@eventlog/http';

/** The bearer token of the demo's native API (EVENTLOG_API_TOKEN). */
export const nativeToken = (): string => env('EVENTLOG_API_TOKEN', 'demo-eventlog-token');

/** The product modules of the demo, in seeding order. */
export const DEMO_MODULES: readonly ExampleModule[] = [newApiExample, xuiOneExample, mediaCpExample, unifiAccessExample, proxyExample];

/** The demo's native API profile under /eventlog, for viewer tokens (the printed viewer link) and the bearer token {@link nativeToken}. */
export function demoNativeProfile(): Profile {
  return native({
    authenticate: viewerAuthenticate((request) =>
      safeEqual(bearerToken(request) ?? '', nativeToken()) ? { role: 'admin', id: 'demo' } : null,
    ),
    title: 'eventlog demo',
  });
}
