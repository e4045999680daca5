import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import {
  bearerToken,
  createHandler,
  mediaCp,
  mediaCpTokens,
  native,
  newApi,
  type Profile,
  proxyLogs,
  proxyUsers,
  safeEqual,
  staticTokens,
  UNIFI_LOG_PERMISSION,
  unifiAccess,
  unifiAccessTokens,
  xuiApiKeys,
  xuiOne,
} from '@eventlog/http';
import { toNodeHandler } from '@eventlog/http/node';
import { createViewerToken, viewerTokenAuth } from '@eventlog/http/viewer-token';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';

/** The APIs `serve --profiles` can mount, each at its product's own paths. */
export const SERVE_PROFILES = ['native', 'proxy', 'new-api', 'xui-one', 'mediacp', 'unifi-access'] as const;
/** One of {@link SERVE_PROFILES}. */
export type ServeProfile = (typeof SERVE_PROFILES)[number];

/** Credentials and settings of `serve`; every secret may come from the environment instead of a flag. */
export interface ServeOptions {
  host: string;
  port: number;
  profiles: ServeProfile[];
  token?: string;
  proxyUser?: string;
  proxyPassword?: string;
  newApiToken?: string;
  xuiAccessCode?: string;
  xuiApiKey?: string;
  mediacpToken?: string;
  unifiToken?: string;
  /** Signs the log viewer's tokens (at least 32 bytes); generated per start when missing. */
  viewerSecret?: string;
  timeZone: string;
}

/** Parses `--profiles native,proxy`. */
export function parseProfiles(value: string): ServeProfile[] {
  const names = value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  const all = names.includes('all') ? [...SERVE_PROFILES] : names;
  for (const name of all) {
    if (!(SERVE_PROFILES as readonly string[]).includes(name)) {
      throw new UsageError(`--profiles: unknown profile "${name}"; choose from ${SERVE_PROFILES.join(', ')} or all.`);
    }
  }
  if (all.length === 0) throw new UsageError('--profiles: name at least one profile.');
  return all as ServeProfile[];
}

const secret = () => randomBytes(18).toString('base64url');

/**
 * Starts a server for the native API and the chosen product profiles on one event log. Missing
 * secrets are generated and printed once, so a first run needs no setup; returns the server and
 * the lines to show.
 */
export async function startServer(ctx: CliContext, options: ServeOptions): Promise<{ server: Server; url: string; lines: string[] }> {
  await ctx.log.ready();
  const lines: string[] = [];
  const profiles: Profile[] = [];
  let viewerSecret: string | undefined;
  const generated = (what: string, value: string | undefined, env: string) => {
    if (value) return value;
    const made = secret();
    lines.push(`  ${what} (generated; set ${env} to keep one): ${made}`);
    return made;
  };
  for (const name of options.profiles) {
    switch (name) {
      case 'native': {
        const token = generated('native API token', options.token, 'EVENTLOG_API_TOKEN');
        // The log viewer reads the native API with short-lived viewer tokens; the static token keeps working beside them.
        viewerSecret = options.viewerSecret ?? randomBytes(32).toString('base64url');
        // Loaded here, so that commands other than serve do not load the viewer's page module.
        const { viewer } = await import('@eventlog/viewer');
        profiles.push(
          native({
            authenticate: viewerTokenAuth({
              secret: viewerSecret,
              fallback: (request) => (safeEqual(bearerToken(request) ?? '', token) ? { role: 'admin', id: 'cli' } : null),
            }),
          }),
          viewer({ title: 'eventlog' }),
        );
        lines.push('  native API: /eventlog/events, /eventlog/stats, /eventlog/openapi.json (Authorization: Bearer <token>)');
        break;
      }
      case 'proxy': {
        const username = options.proxyUser ?? 'admin';
        const password = generated(`proxy API password of ${username}`, options.proxyPassword, 'EVENTLOG_PROXY_PASSWORD');
        profiles.push(proxyLogs({ authenticate: proxyUsers([{ username, password }]), timeZone: options.timeZone }));
        lines.push(`  proxy API: /api/logs, /api/logs/stats, /api/logs/timeline (Basic ${username}:<password>)`);
        break;
      }
      case 'new-api': {
        const token = generated('new-api admin access token', options.newApiToken, 'EVENTLOG_NEW_API_TOKEN');
        profiles.push(newApi({ authenticate: staticTokens([{ token, userId: 1, role: 'admin' }]) }));
        lines.push('  new-api: /api/log/ (Authorization: Bearer <token>, New-Api-User: 1)');
        break;
      }
      case 'xui-one': {
        const accessCode = options.xuiAccessCode ?? 'eventlog';
        const key = generated('XUI.ONE api_key', options.xuiApiKey, 'EVENTLOG_XUI_API_KEY');
        profiles.push(xuiOne({ accessCode, authenticate: xuiApiKeys([{ key, principal: { role: 'admin' } }]) }));
        lines.push(`  XUI.ONE: /${accessCode}/?api_key=<key>&action=…`);
        break;
      }
      case 'mediacp': {
        const token = generated('MediaCP admin token', options.mediacpToken, 'EVENTLOG_MEDIACP_TOKEN');
        profiles.push(mediaCp({ authenticate: mediaCpTokens([{ token, role: 'admin', name: 'admin' }]), timeZone: options.timeZone }));
        lines.push('  MediaCP: /controller/EventLog… (Authorization: Bearer <token>)');
        break;
      }
      case 'unifi-access': {
        const token = generated('UniFi Access API token', options.unifiToken, 'EVENTLOG_UNIFI_TOKEN');
        profiles.push(
          unifiAccess({ authenticate: unifiAccessTokens([{ token, name: 'eventlog cli', permissions: [UNIFI_LOG_PERMISSION] }]) }),
        );
        lines.push('  UniFi Access: /api/v1/developer/system/logs (Authorization: Bearer <token>)');
        break;
      }
    }
  }
  const handler = createHandler({ log: ctx.log, profiles });
  const server = createServer(toNodeHandler(handler));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `http://${host}:${port}`;
  if (viewerSecret) {
    const token = await createViewerToken({ secret: viewerSecret, principal: { role: 'admin', id: 'cli' }, ttl: '24h' });
    const signed = options.viewerSecret
      ? 'EVENTLOG_VIEWER_SECRET'
      : 'a secret generated for this run; set EVENTLOG_VIEWER_SECRET to keep links across restarts';
    lines.push(`  log viewer (admin, link valid 24 h, signed with ${signed}):`, `    ${url}/eventlog/viewer#token=${token}`);
  }
  return { server, url, lines };
}
