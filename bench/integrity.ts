import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createEventLog, type EventInput, type EventLog } from '@eventlog/core';
import type { EngineContext, RawHandle, StoreHandle } from './engine.js';
import { loadEngine } from './engines/index.js';
import { createGenerator, DEFAULT_SEED, NOW } from './generate.js';
import { now } from './measure.js';
import { BENCH_PRESETS } from './presets.js';

// Tamper evidence: the cost of chaining on ingest. The same generated batches go, in rotating
// order, to recordMany on an unchained log, recordMany on a chained log (every event chained,
// checkpoints signed with Ed25519 every `--segment` events in the background) and the raw driver's
// best insert on an identical table; each side writes into its own fresh table.

const { values } = parseArgs({
  // `pnpm run <script> -- --flag` passes the `--` on.
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    engines: { type: 'string', default: 'sqlite,postgres,mysql' },
    rows: { type: 'string', default: '100000' },
    batch: { type: 'string', default: '1000' },
    segment: { type: 'string', default: '1000' },
  },
});
const rows = Number(values.rows);
const batch = Number(values.batch);
const segment = Number(values.segment);

interface Side {
  name: string;
  run(events: readonly EventInput[]): Promise<unknown>;
  ms: number;
}

async function measure(engineName: string, context: EngineContext): Promise<Record<string, unknown>> {
  const engine = await loadEngine(engineName);
  const handles: StoreHandle[] = [];
  const logs: EventLog[] = [];
  let raw: RawHandle | undefined;
  try {
    const open = async (slot: string, chained: boolean) => {
      const handle = await engine.createStore(context, slot);
      handles.push(handle);
      const log = createEventLog({
        store: handle.store,
        presets: BENCH_PRESETS,
        clock: () => NOW,
        ...(chained
          ? {
              integrity: {
                chain: true,
                key: generateKeyPairSync('ed25519').privateKey,
                segment: { maxEvents: segment, maxAgeMs: 3_600_000 },
              },
            }
          : {}),
      });
      log.on('error', (error) => console.error(`${engineName} ${slot}: ${String(error)}`));
      logs.push(log);
      await log.ready();
      return log;
    };
    const plain = await open('iplain', false);
    const chained = await open('ichain', true);
    raw = await engine.createRaw(context, 'iraw', plain.registry.storeSchema);
    const method = raw.insertMethods[0];
    if (!method) throw new Error(`${engineName}: no raw insert method`);
    const sides: Side[] = [
      { name: 'unchained', run: (e) => plain.recordMany(e), ms: 0 },
      { name: 'chained', run: (e) => chained.recordMany(e), ms: 0 },
      { name: `raw ${method.name}`, run: (e) => method.insert(e), ms: 0 },
    ];
    const generator = createGenerator(rows, DEFAULT_SEED);
    for (let from = 0, u = 0; from < rows; from += batch, u++) {
      const events = generator.batch(from, Math.min(batch, rows - from));
      for (let s = 0; s < sides.length; s++) {
        const side = sides[(s + u) % sides.length] as Side;
        const t0 = now();
        await side.run(events);
        side.ms += now() - t0;
      }
    }
    const t0 = now();
    const sealed = await chained.integrity.seal({ force: true });
    const sealMs = now() - t0;
    const tenants = [...new Set(sealed.map((c) => c.tenantId))];
    let verifyMs = 0;
    let verified = 0;
    for (const tenantId of tenants.slice(0, 3)) {
      const v0 = now();
      const report = await chained.verify({ tenantId });
      verifyMs += now() - v0;
      verified += report.rowsChecked;
      if (!report.ok) throw new Error(`${engineName}: chain of ${tenantId} does not verify after the run`);
    }
    const rate = (side: Side) => rows / (side.ms / 1000);
    const [u, c, r] = sides as [Side, Side, Side];
    return {
      engine: engineName,
      rows,
      batch,
      segment,
      unchainedPerSec: Math.round(rate(u)),
      chainedPerSec: Math.round(rate(c)),
      rawPerSec: Math.round(rate(r)),
      raw: r.name,
      chainedVsUnchained: Number((c.ms / u.ms).toFixed(3)),
      unchainedVsRaw: Number((u.ms / r.ms).toFixed(3)),
      chainedVsRaw: Number((c.ms / r.ms).toFixed(3)),
      finalSealMs: Math.round(sealMs),
      verifyRowsPerSec: verifyMs > 0 ? Math.round(verified / (verifyMs / 1000)) : null,
      load: loadavg()
        .map((l) => l.toFixed(2))
        .join(' '),
    };
  } finally {
    for (const log of logs) await log.close().catch(() => undefined);
    for (const handle of handles) await handle.drop().catch(() => undefined);
    await raw?.close().catch(() => undefined);
    await raw?.drop().catch(() => undefined);
    await engine.cleanup?.(context);
  }
}

const tmpDir = mkdtempSync(join(tmpdir(), 'eventlog-integrity-'));
const context: EngineContext = { tmpDir, runId: `i${randomBytes(3).toString('hex').slice(0, 5)}` };
try {
  for (const engine of String(values.engines).split(',')) {
    console.error(
      `${engine}: load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    console.log(JSON.stringify(await measure(engine.trim(), context)));
  }
} finally {
  rmSync(tmpDir, { recursive: true, force: true });
}
