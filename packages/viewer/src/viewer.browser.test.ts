// The viewer in Debian's Chromium (playwright-core) against a real server on seeded SQLite data:
// one browser for the file, a fresh context (cookies, sessionStorage) per test.
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { api, apiIds, axeViolations, column, openViewer, rowIds, settled } from './browser-support.js';
import { HOSTILE_LINK, HOSTILE_MESSAGE, launchChromium, startTestServer, type TestServer, viewerToken } from './test-server.js';

const ZONE = 'Europe/Berlin';
// The screenshots in docs/images are refreshed only on request (EVENTLOG_UPDATE_SCREENSHOTS=1), so a
// test run does not rewrite tracked files; otherwise they go to the ignored scratch directory.
const IMAGES = fileURLToPath(
  new URL(
    process.env.EVENTLOG_UPDATE_SCREENSHOTS === '1' ? '../../../docs/images/' : '../../../.eventlog-tmp/screenshots/',
    import.meta.url,
  ),
);

let server: TestServer;
let browser: Browser;
let context: BrowserContext;
beforeAll(async () => {
  [server, browser] = await Promise.all([startTestServer(), launchChromium()]);
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});
const newContext = async (options: Parameters<Browser['newContext']>[0] = {}) => {
  context = await browser.newContext({ timezoneId: ZONE, locale: 'en-GB', viewport: { width: 1400, height: 900 }, ...options });
  return context;
};
afterEach(async () => {
  await context?.close();
});

// Generous timeouts: the machine is shared, and a page load under load takes seconds.
describe('the viewer in Chromium', { timeout: 60_000 }, () => {
  it('shows the rows the native API answers for the same filter, times in the viewer zone, and pages by keyset', async () => {
    const { page, problems } = await openViewer(await newContext(), server.url, '?range=all&type=app.request');
    await settled(page);
    const expected = await apiIds(server.url, { type: 'app.request' }, 2);
    expect(await rowIds(page)).toEqual(expected.slice(0, 100));
    // Token taken out of the address bar.
    expect(page.url()).not.toContain('token');

    const first = (await api<{ data: Array<{ time: number; type: string }> }>(server.url, '/events', { type: 'app.request', limit: '1' }))
      .data[0]!;
    const clock = new Intl.DateTimeFormat('en-GB', {
      timeZone: ZONE,
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    expect((await column(page, 1))[0]).toContain(clock.format(first.time));
    expect((await column(page, 2)).every((t) => t === 'app.request')).toBe(true);

    const stats = await api<{ data: { count: number } }>(server.url, '/stats', { type: 'app.request' });
    await expect.poll(() => page.textContent('[data-stat="count"]')).toBe(stats.data.count.toLocaleString('en-GB'));

    // Infinite scroll: reaching the end of the table loads the next keyset page.
    await page.locator('.end').scrollIntoViewIfNeeded();
    await expect.poll(async () => (await rowIds(page)).length).toBe(200);
    expect(await rowIds(page)).toEqual(expected);
    expect(problems).toEqual([]);
  });

  it('keeps filters in the URL: chips add and remove one by one, back and forward restore them', async () => {
    const { page, problems } = await openViewer(await newContext(), server.url);
    await settled(page);
    await page.selectOption('.add-filter select', 'outcome');
    await page.fill('.add-filter input', 'failure');
    await page.click('.add-filter button');
    await expect.poll(() => new URL(page.url()).searchParams.get('outcome')).toBe('failure');
    await settled(page);
    expect(new Set(await column(page, 4))).toEqual(new Set(['failure']));

    await page.selectOption('.add-filter select', 'tenantId');
    await page.fill('.add-filter input', 't-2');
    await page.click('.add-filter button');
    await expect.poll(() => new URL(page.url()).searchParams.get('tenantId')).toBe('t-2');
    await settled(page);
    const both = await rowIds(page);
    expect(both.length).toBeGreaterThan(0);
    expect(new Set(await column(page, 8))).toEqual(new Set(['t-2']));

    // The search box, reached with "/".
    await page.keyboard.press('/');
    await page.keyboard.type('signed');
    await page.keyboard.press('Enter');
    await expect.poll(() => new URL(page.url()).searchParams.get('search')).toBe('signed');
    await settled(page);
    expect((await column(page, 9)).every((m) => m.includes('signed'))).toBe(true);

    // Remove the outcome chip only.
    await page.click('button[aria-label="Remove the filter Outcome failure"]');
    await expect.poll(() => new URL(page.url()).searchParams.has('outcome')).toBe(false);
    expect(new URL(page.url()).searchParams.get('tenantId')).toBe('t-2');
    await settled(page);
    const withoutOutcome = await rowIds(page);
    const url = new URL(page.url());
    const filter = Object.fromEntries(url.searchParams);
    expect(withoutOutcome).toEqual(await apiIds(server.url, { ...filter, since: String(Date.now() - 86_400_000) }));

    // Back restores the chip and its rows; forward removes it again.
    await page.goBack();
    await expect.poll(() => new URL(page.url()).searchParams.get('outcome')).toBe('failure');
    await expect.poll(() => page.locator('.chip[data-filter="outcome"]').count()).toBe(1);
    await settled(page);
    // Polled: after a history step the rows of the restored filter arrive after the chip does.
    await expect.poll(async () => new Set(await column(page, 4))).toEqual(new Set(['failure']));
    await page.goForward();
    await expect.poll(() => page.locator('.chip[data-filter="outcome"]').count()).toBe(0);

    // A range preset is state too.
    await page.click('button:has-text("Last 1 h")');
    await expect.poll(() => new URL(page.url()).searchParams.get('range')).toBe('1h');
    expect(problems).toEqual([]);
  });

  it('filters on a declared dimension given in a hand-written URL', async () => {
    const { page } = await openViewer(await newContext(), server.url, '?range=all&dim.model=claude-3');
    await settled(page);
    await expect.poll(() => page.locator('.chip[data-filter="dim.model"]').textContent()).toContain('model: claude-3');
    expect(await rowIds(page)).toEqual(await apiIds(server.url, { 'dim.model': 'claude-3' }));
  });

  it('zooms the range by dragging across the timeline', async () => {
    const { page, problems } = await openViewer(await newContext(), server.url);
    await settled(page);
    const zoomed = page.waitForRequest((r) => /\/eventlog\/timeline\?.*until=/.test(r.url()));
    const over = page.locator('.u-over');
    await over.waitFor();
    const box = (await over.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2, { steps: 8 });
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 4 });
    await page.mouse.up();
    await expect.poll(() => new URL(page.url()).searchParams.has('until')).toBe(true);
    const params = new URL(page.url()).searchParams;
    const since = Number(params.get('since'));
    const until = Number(params.get('until'));
    // About 30 % of a 24-hour window.
    expect(until - since).toBeGreaterThan(5 * 3_600_000);
    expect(until - since).toBeLessThan(9 * 3_600_000);
    await settled(page);
    // Polled: right after the zoom the table may still show (or have just cleared) the previous range's
    // rows, and `settled` can return on those before the zoomed range's rows arrive.
    const expected = await apiIds(server.url, { since: String(since), until: String(until) });
    await expect.poll(() => rowIds(page)).toEqual(expected);
    await expect.poll(() => page.locator('.chip').first().textContent()).toContain('Time:');
    const timeline = new URL((await zoomed).url()).searchParams;
    expect([timeline.get('since'), timeline.get('until'), timeline.get('timeZone')]).toEqual([String(since), String(until), ZONE]);
    expect(problems).toEqual([]);
  });

  it('streams new events into the top of the table within a second, and holds them while scrolled away', async () => {
    const { page, problems } = await openViewer(await newContext(), server.url, '?type=app.request');
    await settled(page);
    const tail = page.waitForResponse(/\/eventlog\/tail\?/);
    await page.click('button.live');
    await tail;
    await expect.poll(() => page.getAttribute('button.live', 'aria-pressed')).toBe('true');

    const started = Date.now();
    const stored = await server.log.record({ type: 'app.request', message: 'live one', tenantId: 't-1', data: { path: '/live' } });
    await page.locator('.scroller tbody tr').first().locator('td.message', { hasText: 'live one' }).waitFor({ timeout: 1000 });
    expect(Date.now() - started).toBeLessThan(1000);
    expect((await rowIds(page))[0]).toBe(stored.id);

    // An event of another type does not match the filter and never shows.
    await server.log.record({ type: 'app.login', message: 'not tailed', tenantId: 't-1', data: { method: 'sso' } });

    // Scrolled away: new events wait above, counted, until the person returns to the top.
    await page.locator('.scroller').evaluate((el) => el.scrollTo({ top: 600 }));
    await expect.poll(() => page.locator('.scroller').evaluate((el) => el.scrollTop)).toBeGreaterThan(100);
    const held = await server.log.record({ type: 'app.request', message: 'held one', tenantId: 't-1', data: { path: '/live' } });
    await page.locator('.tail-status', { hasText: '1 new event waiting' }).waitFor({ timeout: 1000 });
    expect((await rowIds(page))[0]).toBe(stored.id);
    await page.locator('.scroller').evaluate((el) => el.scrollTo({ top: 0 }));
    await expect.poll(async () => (await rowIds(page))[0]).toBe(held.id);
    expect(await page.locator('td.message', { hasText: 'not tailed' }).count()).toBe(0);
    expect(problems).toEqual([]);
  });

  it('opens details from the keyboard and the mouse, with every field, pretty JSON and copy buttons', async () => {
    const ctx = await newContext();
    await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    const { page, problems } = await openViewer(ctx, server.url, '?range=all&type=app.login');
    await settled(page);
    const ids = await rowIds(page);
    await page.locator('body').press('j');
    await page.locator('body').press('j');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.textContent('#detail-heading')).toBe(`Event ${ids[1]}`);
    const event = (await api<{ data: { data: unknown; actor: { id: string }; message: string } }>(server.url, `/events/${ids[1]}`)).data;
    const detail = page.locator('aside.detail');
    await expect.poll(() => detail.textContent()).toContain(event.message);
    expect(await detail.textContent()).toContain(event.actor.id);
    expect(await detail.locator('pre.json').first().textContent()).toBe(JSON.stringify(event.data, null, 2));
    await detail.locator('button', { hasText: 'Copy' }).first().click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(JSON.stringify(event.data, null, 2));

    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('aside.detail').count()).toBe(0);
    await page.locator('.scroller tbody tr').nth(3).click();
    await expect.poll(() => page.textContent('#detail-heading')).toBe(`Event ${ids[3]}`);

    // "Filter" next to a field adds that chip.
    await detail.locator('button[aria-label^="Filter by actor.id"]').click();
    await expect.poll(() => new URL(page.url()).searchParams.get('actorId')).not.toBeNull();
    expect(problems).toEqual([]);
  });

  it('downloads the CSV export of the current filter, equal to the API export', async () => {
    const { page, problems } = await openViewer(await newContext(), server.url, '?range=all&type=app.login&tenantId=t-3');
    await settled(page);
    const download = page.waitForEvent('download');
    await page.click('button:has-text("Export CSV")');
    const file = await (await download).path();
    const csv = readFileSync(file, 'utf8');
    const expected = await api<string>(server.url, '/export.csv', { type: 'app.login', tenantId: 't-3', timeZone: ZONE });
    expect(csv).toBe(expected);
    expect(csv.split('\n').filter(Boolean).length).toBe((await rowIds(page)).length + 1);
    expect(problems).toEqual([]);
  });

  it('reproduces a shared link in a fresh browser: same rows, no token in the link', async () => {
    const first = await openViewer(await newContext(), server.url, '?range=all');
    await settled(first.page);
    await first.page.selectOption('.add-filter select', 'severity');
    await first.page.fill('.add-filter input', 'warning');
    await first.page.click('.add-filter button');
    await expect.poll(() => new URL(first.page.url()).searchParams.get('severity')).toBe('warning');
    await settled(first.page);
    const link = first.page.url();
    expect(link).not.toContain('token');
    const rows = await rowIds(first.page);

    const other = await browser.newContext({ timezoneId: ZONE });
    try {
      const page = await other.newPage();
      await page.goto(`${link}#token=admin-token`);
      await settled(page);
      expect(await rowIds(page)).toEqual(rows);
      expect(await page.locator('.chip[data-filter="severity"]').count()).toBe(1);
    } finally {
      await other.close();
    }
  });

  it('shows a clear message and no data for an expired, tampered, unknown or missing token', async () => {
    const ctx = await newContext();
    const good = await viewerToken({ role: 'admin', id: 'ada' });
    const [header, payload, signature] = good.split('.');
    const tampered = `${header}.${payload}.${signature!.slice(0, -4)}${signature!.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    const expired = await viewerToken({ role: 'admin', id: 'ada' }, 60, () => Date.now() - 3_600_000);
    const cases: Array<[string | null, RegExp]> = [
      [expired, /cannot be used\. The viewer token has expired/],
      [tampered, /cannot be used\. The viewer token is not valid/],
      ['forged-token', /cannot be used/],
      [null, /needs a viewer link/],
    ];
    for (const [token, message] of cases) {
      const { page, problems } = await openViewer(ctx, server.url, '?range=all', token);
      const alert = page.locator('[role="alert"]');
      await alert.waitFor();
      expect(await alert.textContent()).toMatch(message);
      expect(await page.locator('.scroller tbody tr').count()).toBe(0);
      expect(await page.locator('.stats').count()).toBe(0);
      expect(problems).toEqual([]);
      await page.close();
    }
    // The same page with the good token shows data.
    const { page } = await openViewer(ctx, server.url, '?range=all', good);
    await settled(page);
    expect((await rowIds(page)).length).toBe(100);
  });

  it("never shows a reseller another tenant's rows, even with a hand-edited URL, and records the opening", async () => {
    const ctx = await newContext();
    const token = await viewerToken({ role: 'reseller', id: 'rex', tenantIds: ['t-1'] });
    const own = await openViewer(ctx, server.url, '?range=all', token);
    await settled(own.page);
    expect(new Set(await column(own.page, 8))).toEqual(new Set(['t-1']));
    await expect.poll(() => own.page.locator('.sessions li').count()).toBe(1);
    await expect.poll(() => own.page.textContent('.who')).toContain('reseller rex');

    const edited = await openViewer(ctx, server.url, '?range=all&tenantId=t-2', token);
    await settled(edited.page);
    expect(await rowIds(edited.page)).toEqual([]);
    await edited.page.locator('.empty').waitFor();
    await expect.poll(() => edited.page.textContent('[data-stat="count"]')).toBe('0');
    await expect.poll(() => edited.page.locator('.top-panel .muted').count()).toBe(2);
    expect(await edited.page.locator('.top-panel li').count()).toBe(0);

    // Each opening is an audit event with the principal (the page asks whoami once).
    const viewed = await server.log.query({ filter: { type: 'eventlog.viewed', actorId: 'rex' }, limit: 10 });
    expect(viewed.items.length).toBe(2);
  });

  it('renders hostile strings as inert text', async () => {
    const { page, problems } = await openViewer(await newContext(), server.url, '?range=all&actorId=mallory');
    await settled(page);
    expect(await column(page, 9)).toEqual([HOSTILE_MESSAGE]);
    expect(await column(page, 6)).toEqual([HOSTILE_LINK]);
    await page.locator('.scroller tbody tr').first().click();
    await page.locator('aside.detail').waitFor();
    const detail = await page.locator('aside.detail').textContent();
    expect(detail).toContain('<iframe src=\\"javascript:alert(4)\\"></iframe>');
    expect(detail).toContain(HOSTILE_MESSAGE);
    // Nothing the strings describe exists as an element, and nothing ran.
    expect(await page.locator('#app img, #app svg, #app iframe, #app script, #app b').count()).toBe(0);
    expect(await page.locator('a[href^="javascript:"]').count()).toBe(0);
    expect(problems).toEqual([]);
  });

  it('passes axe-core without serious or critical violations, light and dark, and writes the screenshots', async () => {
    mkdirSync(IMAGES, { recursive: true });
    for (const scheme of ['light', 'dark'] as const) {
      const { page, problems } = await openViewer(await newContext({ colorScheme: scheme }), server.url, '?metric=quota');
      await settled(page);
      await page.locator('.u-over').waitFor();
      await page.locator('.sessions li').first().waitFor();
      expect(await axeViolations(page)).toEqual([]);
      await page.screenshot({ path: `${IMAGES}viewer-${scheme}.png` });
      await page.locator('.scroller tbody tr', { hasText: 'API v1' }).first().click();
      await page.locator('aside.detail').waitFor();
      expect(await axeViolations(page)).toEqual([]);
      await page.screenshot({ path: `${IMAGES}viewer-detail-${scheme}.png` });
      expect(problems).toEqual([]);
      await context.close();
    }
    const { page } = await openViewer(await newContext({ viewport: { width: 390, height: 844 }, isMobile: true }), server.url);
    await settled(page);
    expect(await axeViolations(page)).toEqual([]);
    // No sideways scrolling of the page itself on a phone.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: `${IMAGES}viewer-phone.png` });
  }, 120_000);
});
