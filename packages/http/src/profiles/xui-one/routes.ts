import { z } from 'zod';
import { HttpError } from '../../errors.js';
import { parseQuery, type RawQuery } from '../../params.js';
import type { Route } from '../../profile.js';
import { ID, type Params, WORD, xuiActions } from './actions.js';
import type { XuiOneOptions } from './index.js';

function count(params: Params, name: string, fallback: number, min: number, max: number): number {
  const raw = params[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^\s*\d{1,16}\s*$/.test(raw)) throw new HttpError('BAD_REQUEST', `${name} must be a whole number from ${min} to ${max}.`);
  const value = Number(raw);
  if (value < min || value > max) throw new HttpError('BAD_REQUEST', `${name} must be a whole number from ${min} to ${max}.`);
  return value;
}

/**
 * The one route of the API. It authenticates inside the route rather than in a route group: the
 * `api_key` may arrive in the form body, which is parsed after a group's authenticate step runs.
 * @internal
 */
export function xuiRoute(options: XuiOneOptions, base: string): Route {
  const maxLimit = options.maxLimit ?? 1000;
  const actions = xuiActions();
  return {
    method: ['GET', 'POST'],
    path: [`${base}/`, base],
    body: z.unknown(),
    maxBodyBytes: 64 * 1024,
    run: async ({ url, body, log, request }) => {
      // Like PHP's $_REQUEST: query and form fields together, the form winning. Every value is one string.
      const fields: RawQuery = {
        ...parseQuery(url.searchParams),
        ...(body && typeof body === 'object' && !Array.isArray(body) ? (body as RawQuery) : {}),
      };
      const params: Params = {};
      for (const [key, value] of Object.entries(fields)) {
        const one = Array.isArray(value) ? value[value.length - 1] : value;
        if (typeof one !== 'string') throw new HttpError('BAD_REQUEST', `${key} must be text.`);
        if (one.length > 256) throw new HttpError('BAD_REQUEST', `${key} is too long.`);
        params[key] = one;
      }
      const apiKey = params.api_key;
      const principal = apiKey ? await options.authenticate(apiKey, request) : null;
      if (!principal) throw new HttpError('UNAUTHORIZED', 'Invalid API key.');
      const action = Object.hasOwn(actions, params.action ?? '') ? actions[params.action!] : undefined;
      if (!action) throw new HttpError('BAD_REQUEST', 'Invalid action.');
      for (const param of Object.keys(action.ids ?? {})) {
        const value = params[param];
        if (value !== undefined && value !== '' && !ID.test(value) && !WORD.test(value))
          throw new HttpError('BAD_REQUEST', `Invalid ${param}.`);
      }
      const maxOffset = options.maxOffset ?? log.limits.maxOffset;
      const limit = count(params, 'limit', params.action === 'live_connections' ? maxLimit : 100, 1, maxLimit);
      const offset = count(params, params.offset !== undefined && params.offset !== '' ? 'offset' : 'start', 0, 0, maxOffset);
      const reader = log.view({ principal, ...(options.maskIp ? { maskIp: true } : {}) });
      return action.run({ reader, params, limit, offset });
    },
  };
}
