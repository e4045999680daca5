import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { HttpError } from './errors.js';
import { queryInt } from './params.js';
import { createRouteGroup, json, type Profile } from './profile.js';
import { createTestHandler, createTestLog, send } from './testing/profile-test-kit.js';

describe('route groups', () => {
  it('authenticate once per request, before inputs are parsed, and hand the caller to every route of the group', async () => {
    let calls = 0;
    const group = createRouteGroup({
      authenticate: ({ request }) => {
        calls++;
        if (request.headers.get('authorization') !== 'Bearer k') throw new HttpError('UNAUTHORIZED', 'Send the key.');
        return { name: 'ada' };
      },
    });
    group.route({ method: 'GET', path: '/who', run: ({ auth }) => ({ name: auth.name }) });
    group.route({
      method: 'GET',
      path: '/count',
      cost: 'expensive',
      query: z.object({ max: queryInt({ min: 1, max: 10, default: 5 }) }),
      run: async ({ auth, log, query }) => ({ name: auth.name, max: query.max, count: await log.count() }),
    });
    const profile: Profile = {
      name: 'grouped',
      routes: [{ method: 'GET', path: '/open', run: () => ({ open: true }) }, ...group.routes],
      failure: (error) => json({ error: error.message }, error.status),
    };
    const log = createTestLog();
    const handler = createTestHandler(log, [profile]);
    const key = { headers: { authorization: 'Bearer k' } };
    try {
      expect((await send(handler, 'http://x/who', key)).body).toEqual({ name: 'ada' });
      expect((await send(handler, 'http://x/count?max=3', key)).body).toEqual({ name: 'ada', max: 3, count: 0 });
      expect(calls).toBe(2);
      // Authentication comes first: a caller without the key learns nothing about the parameters.
      const anonymous = await send(handler, 'http://x/count?max=999');
      expect(anonymous.status).toBe(401);
      expect(anonymous.body).toEqual({ error: 'Send the key.' });
      expect((await send(handler, 'http://x/count?max=999', key)).status).toBe(400);
      // Routes outside the group are not authenticated.
      expect((await send(handler, 'http://x/open')).body).toEqual({ open: true });
      expect(calls).toBe(4);
      expect(group.routes.map((r) => [r.path, r.cost ?? 'cheap', typeof r.auth])).toEqual([
        ['/who', 'cheap', 'function'],
        ['/count', 'expensive', 'function'],
      ]);
    } finally {
      await log.close();
    }
  });
});
