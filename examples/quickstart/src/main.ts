/**
 * The smallest tour of eventlog: typed events on SQLite, then a page, stats, a timeline, a top-10
 * and a CSV export. Run it with `pnpm demo` from the repository root.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteStore } from '@eventlog/adapters/sqlite';
import { createEventLog, defineEventType, definePreset } from '@eventlog/core';
import { z } from 'zod';

const chat = defineEventType('llm.consumption', z.object({ stream: z.boolean() }), { category: 'consumption' });
const signIn = defineEventType('auth.sign_in', z.object({ method: z.enum(['password', 'sso']) }), { category: 'login' });
const gateway = definePreset({
  name: 'gateway',
  types: [chat, signIn],
  dimensions: [{ name: 'model_name', indexed: true }],
  metrics: [{ name: 'quota' }, { name: 'prompt_tokens', tokens: true }, { name: 'completion_tokens', tokens: true }],
});

const filename = process.env.EVENTLOG_DB ?? join(tmpdir(), 'eventlog-quickstart.db');
const log = createEventLog({ store: createSqliteStore({ filename }), presets: [gateway] });

const now = Date.now();
const models = ['gpt-4o', 'claude-sonnet', 'llama-3'];
await log.recordMany(
  Array.from({ length: 5000 }, (_, i) => ({
    type: 'llm.consumption' as const,
    time: now - i * 17_000,
    tenantId: `team-${i % 4}`,
    actor: { id: `user-${i % 25}`, type: 'user' },
    message: `chat completion ${i}`,
    dimensions: { model_name: models[i % 3] },
    metrics: { quota: 100 + (i % 50), prompt_tokens: 200 + (i % 300), completion_tokens: 50 + (i % 120) },
    data: { stream: i % 2 === 0 },
  })),
);
await log.record({ type: 'auth.sign_in', tenantId: 'team-1', actor: { id: 'user-1' }, outcome: 'failure', data: { method: 'password' } });

const page = await log.query({ filter: { tenantId: 'team-1', category: 'consumption' }, pageSize: 3 });
console.log(`team-1 has ${page.total} consumption events; newest three:`);
for (const event of page.items)
  console.log(`  #${event.id} ${new Date(event.time).toISOString()} ${event.message} (${event.dimensions.model_name})`);

const stats = await log.stats({ since: now - 3_600_000 });
console.log(`\nlast hour: ${stats.count} events, quota ${stats.sums.quota}, rpm ${stats.rpm}, tpm ${stats.tpm}`);

const timeline = await log.timeline({ bucket: 'hour', timeZone: 'Europe/Berlin', filter: { since: now - 6 * 3_600_000 } });
console.log('\nevents per hour (Europe/Berlin):');
for (const point of timeline.points) console.log(`  ${point.label}  ${'#'.repeat(Math.ceil(point.count / 10))} ${point.count}`);

console.log('\ntop models by quota:');
for (const entry of await log.top({ by: 'model_name', orderBy: 'quota', limit: 3 })) {
  console.log(`  ${entry.value}: ${entry.count} calls, quota ${entry.sums.quota}`);
}

console.log('\nCSV export (first lines):');
for await (const chunk of log.exportCsv({ columns: ['id', 'time', 'tenantId', 'model_name', 'quota'], timeZone: 'UTC', maxRows: 3 })) {
  process.stdout.write(chunk);
}

const deleted = await log.prune({ before: now - 12 * 3_600_000 });
console.log(`\npruned ${deleted} events older than 12 hours; ${await log.count()} remain in ${filename}`);
await log.close();
