// Test support for the browser tests (not exported): opening the viewer in a page that records
// CSP violations, script errors and dialogs, reading the table, calling the native API, running axe.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { BrowserContext, Page } from 'playwright-core';

export interface OpenedPage {
  page: Page;
  /** CSP violations, uncaught errors and dialogs (alert/confirm) seen so far. */
  problems: string[];
}

/** Opens `<url>/eventlog/viewer<query>#token=<token>` and waits for the first answer to settle. */
export async function openViewer(
  context: BrowserContext,
  url: string,
  query = '',
  token: string | null = 'admin-token',
): Promise<OpenedPage> {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) problems.push(`csp: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`error: ${error.message}`));
  page.on('dialog', (dialog) => {
    problems.push(`dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  await page.goto(`${url}/eventlog/viewer${query}${token ? `#token=${encodeURIComponent(token)}` : ''}`);
  return { page, problems };
}

/** Waits until the table has loaded (rows, or the empty state). */
export async function settled(page: Page): Promise<void> {
  await page.waitForFunction(
    () =>
      !document.querySelector('.end [role="status"]') && (document.querySelector('.scroller tbody tr') || document.querySelector('.empty')),
  );
}

/** The event ids of the table's rows, top to bottom. */
export function rowIds(page: Page): Promise<number[]> {
  return page.$$eval('.scroller tbody tr', (rows) => rows.map((row) => Number((row as HTMLElement).dataset.id)));
}

/** The text of one column of every row (1-based column index). */
export function column(page: Page, index: number): Promise<string[]> {
  return page.$$eval(`.scroller tbody tr td:nth-child(${index})`, (cells) => cells.map((cell) => cell.textContent ?? ''));
}

/** Calls the native API with a bearer token. */
export async function api<T>(
  url: string,
  path: string,
  params: Record<string, string> | URLSearchParams = {},
  token = 'admin-token',
): Promise<T> {
  const query = new URLSearchParams(params).toString();
  const response = await fetch(`${url}/eventlog${path}${query ? `?${query}` : ''}`, { headers: { Authorization: `Bearer ${token}` } });
  if (!response.ok) throw new Error(`${path} answered ${response.status}: ${await response.text()}`);
  return (response.headers.get('content-type') ?? '').includes('json') ? ((await response.json()) as T) : ((await response.text()) as T);
}

/** The ids of the first `pages` keyset pages of the native API for the given filter. */
export async function apiIds(url: string, filter: Record<string, string>, pages = 1, token = 'admin-token'): Promise<number[]> {
  const ids: number[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < pages; i++) {
    const page: { data: Array<{ id: number }>; nextCursor: string | null } = await api(
      url,
      '/events',
      { ...filter, limit: '100', ...(cursor ? { cursor } : {}) },
      token,
    );
    ids.push(...page.data.map((e) => e.id));
    cursor = page.nextCursor;
    if (!cursor) break;
  }
  return ids;
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Serious and critical axe-core violations on the page, as `rule: target` lines. */
export async function axeViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern.
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as {
        axe: {
          run: (
            c: unknown,
            o: unknown,
          ) => Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: unknown }> }> }>;
        };
      }
    ).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => JSON.stringify(n.target)) }));
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.targets.join(' ')}`);
}
