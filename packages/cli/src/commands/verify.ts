import { readFileSync } from 'node:fs';
import type { ChainAnchor, Checkpoint, IntegrityOptions, VerifyReport } from '@eventlog/core';
import type { Command } from 'commander';
import type { CliConfig } from '../config.js';
import type { CliContext, GlobalOptions } from '../context.js';
import { EXIT_FAILURE, UsageError } from '../errors.js';
import { parseTime } from '../filters.js';

/** What `registerVerify` needs from the program. */
export interface VerifyCommandDeps {
  storeOptions(command: Command): Command;
  withContext<T>(
    options: GlobalOptions,
    run: (ctx: CliContext) => Promise<T>,
    extra?: { migrate?: boolean; integrity?: (config: CliConfig) => IntegrityOptions | undefined },
  ): Promise<T>;
  out(text: string): void;
  finish(code: number): void;
}

/**
 * The integrity settings `verify` runs with: the config's (which events are chained, the keys),
 * with `--public-key` replacing the key; every event is taken as chained when the config has none.
 */
export function verifyIntegrity(config: CliConfig, publicKeyPem: string | undefined): IntegrityOptions {
  const base: IntegrityOptions = config.integrity ?? { chain: true };
  if (publicKeyPem === undefined) return base;
  // Verifying needs only the public key: the private key stays with the application.
  const { key: _key, ...rest } = base;
  return { ...rest, publicKey: publicKeyPem };
}

/** Reads anchors from a JSON file: an array of heads and checkpoints, or `{ anchors: [...] }`. */
export function readAnchors(file: string): (ChainAnchor | Checkpoint)[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`--anchors ${file}: not a readable JSON file (${(error as Error).message}).`);
  }
  const list = Array.isArray(parsed) ? parsed : (parsed as { anchors?: unknown })?.anchors;
  if (!Array.isArray(list)) throw new UsageError(`--anchors ${file}: expected an array of anchors or { "anchors": [...] }.`);
  return list as (ChainAnchor | Checkpoint)[];
}

/** A report in a few lines a person reads. */
export function formatReport(report: VerifyReport): string {
  const who = report.tenantId === null ? 'events without a tenant' : `tenant ${report.tenantId}`;
  const lines = [
    `${report.ok ? 'OK' : 'TAMPERED'}: ${who}, ${report.rowsChecked} rows, ${report.segmentsChecked} sealed segments checked` +
      `${report.segmentsPruned ? `, ${report.segmentsPruned} pruned` : ''}; sealed up to #${report.sealedSeq}, head #${report.headSeq}` +
      `${report.signaturesVerified ? '' : ' (signatures NOT checked: no public key)'}.`,
  ];
  if (report.firstBrokenSeq !== null) lines.push(`first broken link: #${report.firstBrokenSeq}`);
  for (const m of report.modified) lines.push(`modified: #${m.seq} (id ${m.id})`);
  for (const d of report.deleted) lines.push(`deleted: #${d.seq}`);
  for (const i of report.inserted) lines.push(`inserted: id ${i.id}${i.seq === null ? '' : ` at #${i.seq}`}`);
  for (const r of report.reordered) lines.push(`reordered: id ${r.id} at #${r.seq} belongs at #${r.expectedSeq}`);
  for (const f of report.checkpointFailures) lines.push(`checkpoint #${f.firstSeq}-#${f.lastSeq}: ${f.reason}`);
  if (report.missingNewest)
    lines.push(`missing newest rows: #${report.missingNewest.fromSeq}-#${report.missingNewest.toSeq} (an anchor says they existed)`);
  if (report.truncated) lines.push('(lists cut at 1,000 entries)');
  return `${lines.join('\n')}\n`;
}

/** Adds `eventlog verify` to the program. */
export function registerVerify(program: Command, deps: VerifyCommandDeps): void {
  deps
    .storeOptions(program.command('verify').description("check a tenant's hash chain and signed checkpoints for tampering"))
    .option('--tenant <id>', 'the tenant whose chain is checked')
    .option('--no-tenant', 'check the chain of events recorded without a tenant')
    .option('--since <time>', 'only sealed segments with events from this time (the unsealed tail is always checked)')
    .option('--until <time>', 'only sealed segments with events before this time')
    .option('--anchors <file>', 'JSON file of heads and checkpoints kept outside the database')
    .option('--public-key <file>', 'Ed25519 public key (PEM) the checkpoints are checked with (default: the config’s)')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  $ eventlog verify --tenant 42 --public-key audit.pub.pem\n  $ eventlog verify --tenant 42 --anchors anchors.json --json\n' +
        'Exits with 0 when the chain verifies, 1 when anything was found.\n',
    )
    .action(async (opts) => {
      if (opts.tenant === undefined) throw new UsageError('Name the chain: --tenant <id>, or --no-tenant.');
      const tenantId: string | null = opts.tenant === false ? null : String(opts.tenant);
      const now = Date.now();
      const since = opts.since ? parseTime(opts.since, now, '--since') : undefined;
      const until = opts.until ? parseTime(opts.until, now, '--until') : undefined;
      const anchors = opts.anchors ? readAnchors(opts.anchors) : [];
      let publicKey: string | undefined;
      if (opts.publicKey) {
        try {
          publicKey = readFileSync(opts.publicKey, 'utf8');
        } catch (error) {
          throw new UsageError(`--public-key ${opts.publicKey}: ${(error as Error).message}`);
        }
      }
      await deps.withContext(
        opts,
        async (ctx) => {
          const report = await ctx.log.verify({
            tenantId,
            anchors,
            ...(since !== undefined ? { since } : {}),
            ...(until !== undefined ? { until } : {}),
          });
          deps.out(opts.json ? `${JSON.stringify(report)}\n` : formatReport(report));
          if (!report.ok) deps.finish(EXIT_FAILURE);
        },
        { integrity: (config) => verifyIntegrity(config, publicKey) },
      );
    });
}
