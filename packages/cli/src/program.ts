import { isEventLogError } from '@eventlog/core';
import { Command, CommanderError, Option } from 'commander';
import { diagnose, migrateStore } from './commands/inspect.js';
import { registerJobs } from './commands/jobs.js';
import { examples, filterOptions, storeOptions } from './commands/kit.js';
import { registerPrune } from './commands/prune.js';
import { exportEvents, parseBucket, printStats, printTimeline, printTop, tailEvents } from './commands/read.js';
import { parseProfiles, SERVE_PROFILES, startServer } from './commands/serve.js';
import { registerVerify } from './commands/verify.js';
import { type CliContext, type GlobalOptions, openContext } from './context.js';
import { CliError, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE, UsageError } from './errors.js';
import { buildFilter, collect, type FilterFlags, parsePositiveInt, parseTimeZone } from './filters.js';
import { IMPORT_FORMATS, type ImportFormat } from './import/formats.js';
import { importFiles } from './import/import.js';
import { formatCount, progressMode } from './progress.js';
import { redact } from './store.js';

/** Where a run writes; tests and embedders may pass their own. */
export interface ProgramIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Aborted on Ctrl+C (SIGINT) or SIGTERM. */
  signal: AbortSignal;
}

/**
 * Builds the `eventlog` command tree (commander). Each action resolves with the process exit code.
 *
 * @example
 * ```ts
 * import { createProgram } from '@eventlog/cli';
 * const controller = new AbortController();
 * const program = createProgram({ out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), signal: controller.signal });
 * await program.parseAsync(['node', 'eventlog', 'stats', '--since', '1d']);
 * ```
 */
export function createProgram(io: ProgramIo): Command & { exitCode?: number } {
  const program = new Command('eventlog') as Command & { exitCode?: number };
  const finish = (code: number) => {
    program.exitCode = code;
  };
  const sayer = (quiet: boolean | undefined) => (line: string) => {
    if (!quiet) io.err(`${line}\n`);
  };
  const withContext = async <T>(
    options: GlobalOptions,
    run: (ctx: CliContext) => Promise<T>,
    extra?: Parameters<typeof openContext>[1],
  ) => {
    const ctx = await openContext(options, extra);
    try {
      return await run(ctx);
    } finally {
      await ctx.log.close();
    }
  };

  program
    .description('Import, export, prune, inspect, tail and serve eventlog stores from a terminal.')
    .version('0.1.0', '-V, --version')
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride()
    .addHelpText(
      'after',
      examples([
        'eventlog import /var/log/nginx/access.log.1.gz',
        'eventlog stats --since 1d --type proxy.request',
        'eventlog export --since 30d --format csv -o month.csv',
        'eventlog serve --profiles native,proxy',
        'EVENTLOG_DB=postgres://app@127.0.0.1/app eventlog doctor',
      ]) +
        '\nThe store comes from --db, then EVENTLOG_DB, then the config file, then ./events.db.\nExit codes: 0 done, 1 failure, 2 usage error, 130 interrupted (Ctrl+C).\n',
    );

  // ---- import --------------------------------------------------------------------------------
  storeOptions(
    program
      .command('import')
      .description(
        'import access logs or events: JSON lines, CSV (the export format), combined (nginx/Apache) or Squid access.log; .gz is read transparently',
      )
      .argument('<files...>', 'files to import, or - for standard input'),
  )
    .addOption(new Option('--format <format>', 'input format (default: detected from the first line)').choices(IMPORT_FORMATS))
    .option('--batch <n>', 'events per recordMany batch (one transaction)', '5000')
    .option('--rejects <file>', 'where rejected lines go, as JSON lines with file, line, reason and text (default: <file>.rejects.jsonl)')
    .option('--state-dir <dir>', 'where resume checkpoints live (env EVENTLOG_STATE_DIR; default ~/.local/state/eventlog/imports)')
    .option('--restart', 'ignore the checkpoint and import the files from the start')
    .option('--tenant <id>', 'tenant id stored on every imported access-log request')
    .option('--vhost <host>', 'host name put before request paths of combined logs, e.g. www.example.com')
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      examples([
        'eventlog import access.log                        # format detected, into ./events.db',
        'eventlog import --format squid /var/log/squid/access.log.1.gz --db postgres://app@db/app',
        'zcat old/*.gz | eventlog import --format combined -',
        'eventlog import events.jsonl export.csv --rejects bad.jsonl',
      ]) +
        '\nAccess-log lines become proxy.request events, served by the proxy API (eventlog serve --profiles proxy).\n' +
        'Running the same import again continues after the last stored batch: nothing is imported twice.\n',
    )
    .action(async (files: string[], opts) => {
      const batchSize = parsePositiveInt(opts.batch, '--batch', 100_000);
      await withContext(
        opts,
        async (ctx) => {
          const summary = await importFiles(ctx.log, files, {
            ...(opts.format ? { format: opts.format as ImportFormat } : {}),
            batchSize,
            rejects: opts.rejects,
            stateDir: opts.stateDir,
            restart: opts.restart === true,
            db: redact(ctx.target.location),
            // ClickHouse ids are unique but not ordered across processes.
            increasingIds: ctx.store.capabilities.returnsIds && ctx.target.engine !== 'clickhouse',
            parser: {
              ...(opts.tenant ? { tenantId: opts.tenant } : {}),
              ...(opts.vhost ? { vhost: opts.vhost } : {}),
              dimensions: new Map(ctx.dimensions.map((d) => [d.name, d.type === 'integer' ? 'integer' : 'string'])),
              metrics: new Set(ctx.metrics.map((m) => m.name)),
            },
            progress: progressMode(opts.quiet),
            signal: io.signal,
            say: sayer(opts.quiet),
          });
          if (opts.json) io.out(`${JSON.stringify(summary)}\n`);
          else {
            for (const f of summary.files) {
              io.out(
                `${f.file}: ${formatCount(f.stored)} stored, ${formatCount(f.rejected)} rejected (${f.format ?? 'empty'}, lines ${f.resumedAfterLine + 1}–${f.lastLine})\n`,
              );
            }
            if (summary.files.length > 1)
              io.out(`total: ${formatCount(summary.stored)} stored, ${formatCount(summary.rejected)} rejected\n`);
            if (summary.rejectsFile) io.out(`rejected lines: ${summary.rejectsFile}\n`);
          }
          if (summary.interrupted) {
            const last = summary.files[summary.files.length - 1];
            io.err(
              `Interrupted: stored everything read up to line ${last?.lastLine ?? 0} of ${last?.file ?? '?'}; run the same command again to continue from there.\n`,
            );
            finish(EXIT_INTERRUPTED);
          }
        },
        { buffer: { maxBatchSize: batchSize, maxPending: batchSize * 3 } },
      );
    });

  // ---- export --------------------------------------------------------------------------------
  filterOptions(storeOptions(program.command('export').description('write the matching events as CSV or JSON lines, to a file or stdout')))
    .addOption(new Option('--format <format>', 'output format').choices(['csv', 'jsonl']).default('csv'))
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .option('--tz <zone>', 'IANA time zone of the time column', 'UTC')
    .option('--columns <list>', 'CSV columns (fields, dimensions, metrics, data), comma-separated')
    .addOption(new Option('--order <order>', 'time order').choices(['asc', 'desc']).default('asc'))
    .addHelpText(
      'after',
      examples([
        'eventlog export --since 30d -o last-month.csv',
        'eventlog export --type proxy.request --dim status_code=403 --tz Europe/Berlin --format jsonl > blocked.jsonl',
        'eventlog export --tenant 42 --since 2026-01-01 --until 2026-02-01 --columns time,type,actorId,message',
      ]),
    )
    .action(async (opts) => {
      const timeZone = parseTimeZone(opts.tz);
      await withContext(opts, async (ctx) => {
        const filter = buildFilter(opts as FilterFlags, Date.now());
        const result = await exportEvents(ctx, {
          filter,
          format: opts.format,
          output: opts.output,
          timeZone,
          order: opts.order,
          ...(opts.columns ? { columns: collect(opts.columns) } : {}),
          progress: opts.output && opts.output !== '-' ? progressMode(opts.quiet) : progressMode(opts.quiet || !process.stderr.isTTY),
          signal: io.signal,
        });
        if (opts.output && opts.output !== '-') sayer(opts.quiet)(`${formatCount(result.rows)} events written to ${opts.output}`);
        if (result.interrupted) {
          io.err(`Interrupted after ${formatCount(result.rows)} events; the output is incomplete.\n`);
          finish(EXIT_INTERRUPTED);
        }
      });
    });

  // ---- prune, jobs --------------------------------------------------------------------------
  const kit = { io, finish, withContext };
  registerPrune(program, kit);
  registerJobs(program, kit);

  registerVerify(program, { storeOptions, withContext, out: io.out, finish });
  // ---- stats / top / timeline ----------------------------------------------------------------
  filterOptions(storeOptions(program.command('stats').description('count, RPM, TPM and metric sums of the matching events')))
    .option('--json', 'print JSON for scripts')
    .addHelpText('after', examples(['eventlog stats --since 1d', 'eventlog stats --type llm.consumption --tenant 7 --json']))
    .action(async (opts) => {
      await withContext(opts, async (ctx) => {
        io.out(`${await printStats(ctx, buildFilter(opts as FilterFlags, Date.now()), opts.json === true)}\n`);
      });
    });

  filterOptions(storeOptions(program.command('top').description('the most frequent values of a field or dimension')))
    .requiredOption('--by <field>', 'a field (ip, actorId, type, outcome…) or a dimension (host, status_code…)')
    .option('--limit <n>', 'rows', '10')
    .option('--order-by <metric>', 'rank by the sum of a metric instead of the count')
    .option('--json', 'print JSON for scripts')
    .addHelpText(
      'after',
      examples([
        'eventlog top --by host --since 1d',
        'eventlog top --by ip --dim status_code=403 --limit 20',
        'eventlog top --by host --order-by bytes',
      ]),
    )
    .action(async (opts) => {
      const limit = parsePositiveInt(opts.limit, '--limit', 1000);
      await withContext(opts, async (ctx) => {
        const text = await printTop(
          ctx,
          { by: opts.by, filter: buildFilter(opts as FilterFlags, Date.now()), limit, ...(opts.orderBy ? { orderBy: opts.orderBy } : {}) },
          opts.json === true,
        );
        io.out(`${text}\n`);
      });
    });

  filterOptions(storeOptions(program.command('timeline').description('events per minute, hour or day as a bar chart')))
    .option('--bucket <size>', 'minute, hour or day', 'hour')
    .option('--tz <zone>', 'IANA time zone of the buckets', 'UTC')
    .option('--metric <name>', 'chart the sum of a metric instead of the count')
    .option('--width <n>', 'width of the longest bar', '50')
    .option('--json', 'print JSON for scripts')
    .addHelpText(
      'after',
      examples([
        'eventlog timeline --since 24h',
        'eventlog timeline --since 30d --bucket day --tz America/New_York',
        'eventlog timeline --since 6h --metric bytes --json',
      ]),
    )
    .action(async (opts) => {
      const bucket = parseBucket(opts.bucket);
      const timeZone = parseTimeZone(opts.tz);
      const width = parsePositiveInt(opts.width, '--width', 500);
      await withContext(opts, async (ctx) => {
        const input = {
          filter: buildFilter(opts as FilterFlags, Date.now()),
          bucket,
          timeZone,
          width,
          ...(opts.metric ? { metric: opts.metric } : {}),
        };
        io.out(`${await printTimeline(ctx, input, opts.json === true)}\n`);
      });
    });

  // ---- tail ----------------------------------------------------------------------------------
  filterOptions(storeOptions(program.command('tail').description('follow new events as another process writes them, one line each')), false)
    .option('-n, --last <n>', 'first show this many recent events', '0')
    .option('--interval <ms>', 'poll interval', '1000')
    .option('--max <n>', 'exit after this many events')
    .option('--tz <zone>', 'IANA time zone of the times shown', 'UTC')
    .option('--json', 'one JSON event per line')
    .addHelpText(
      'after',
      examples(['eventlog tail', 'eventlog tail --type proxy.request --outcome BLOCKED -n 20', 'eventlog tail --json | jq .message']),
    )
    .action(async (opts) => {
      const intervalMs = parsePositiveInt(opts.interval, '--interval', 3_600_000);
      const last = opts.last === '0' ? 0 : parsePositiveInt(opts.last, '--last', 1000);
      const max = opts.max ? parsePositiveInt(opts.max, '--max') : undefined;
      const timeZone = parseTimeZone(opts.tz);
      await withContext(opts, async (ctx) => {
        sayer(opts.quiet)('Following new events (Ctrl+C to stop)…');
        await tailEvents(ctx, {
          filter: buildFilter(opts as FilterFlags, Date.now()),
          intervalMs,
          last,
          ...(max !== undefined ? { max } : {}),
          json: opts.json === true,
          timeZone,
          signal: io.signal,
          print: (line) => io.out(`${line}\n`),
        });
      });
    });

  // ---- migrate / doctor ----------------------------------------------------------------------
  storeOptions(program.command('migrate').description('create or upgrade the tables and indexes, and report what changed'))
    .addHelpText('after', examples(['eventlog migrate', 'eventlog migrate --db postgres://app@db/app?schema=logs']))
    .action(async (opts) => {
      await withContext(opts, async (ctx) => {
        for (const line of await migrateStore(ctx)) io.out(`${line}\n`);
      });
    });

  storeOptions(program.command('doctor').description("check the store's indexes, settings and size, and say what to fix"))
    .option('--json', 'print the findings as JSON')
    .addHelpText(
      'after',
      examples(['eventlog doctor', 'eventlog doctor --db postgres://app@db/app --json']) +
        '\nExits with 1 when a check fails (missing tables, columns or indexes).\n',
    )
    .action(async (opts) => {
      await withContext(
        opts,
        async (ctx) => {
          const findings = await diagnose(ctx);
          if (opts.json) io.out(`${JSON.stringify(findings)}\n`);
          else {
            io.out(`store: ${ctx.target.engine} ${redact(ctx.target.location)}\n`);
            for (const f of findings) {
              const mark = f.level === 'ok' ? 'ok  ' : f.level === 'warn' ? 'WARN' : 'FAIL';
              io.out(`${mark} ${f.check}: ${f.detail}${f.fix ? `\n     fix: ${f.fix}` : ''}\n`);
            }
          }
          if (findings.some((f) => f.level === 'fail')) finish(EXIT_FAILURE);
        },
        { migrate: false },
      );
    });

  // ---- serve ---------------------------------------------------------------------------------
  storeOptions(program.command('serve').description('serve the native API and product APIs on this store'))
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port (0 picks a free one)', '8080')
    .option('--profiles <list>', `APIs to mount: ${SERVE_PROFILES.join(', ')} or all`, 'native,proxy')
    .option('--tz <zone>', 'time zone of the product APIs', 'UTC')
    .option('--token <token>', 'native API bearer token (env EVENTLOG_API_TOKEN)')
    .option('--proxy-user <name>', 'proxy API user name (env EVENTLOG_PROXY_USER)')
    .option('--proxy-password <password>', 'proxy API password (env EVENTLOG_PROXY_PASSWORD)')
    .option('--new-api-token <token>', 'new-api admin access token (env EVENTLOG_NEW_API_TOKEN)')
    .option('--xui-access-code <code>', 'XUI.ONE access code path segment (env EVENTLOG_XUI_ACCESS_CODE)')
    .option('--xui-api-key <key>', 'XUI.ONE api_key (env EVENTLOG_XUI_API_KEY)')
    .option('--mediacp-token <token>', 'MediaCP admin bearer token (env EVENTLOG_MEDIACP_TOKEN)')
    .option('--unifi-token <token>', 'UniFi Access bearer token (env EVENTLOG_UNIFI_TOKEN)')
    .addHelpText(
      'after',
      examples([
        'eventlog serve                                   # native + proxy API on http://127.0.0.1:8080',
        'EVENTLOG_PROXY_PASSWORD=s3cret eventlog serve --profiles proxy --port 9000',
        'eventlog serve --profiles all --db postgres://app@db/app --host 0.0.0.0',
      ]) +
        '\nMissing secrets are generated and printed at start. Prefer the environment to flags for secrets (flags show in ps).\n' +
        'With the native API comes the log viewer at /eventlog/viewer: a ready link is printed at start; EVENTLOG_VIEWER_SECRET (at least 32 bytes) signs its tokens.\n',
    )
    .action(async (opts) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port: "${opts.port}" is not a port number.`);
      const profiles = parseProfiles(opts.profiles);
      const timeZone = parseTimeZone(opts.tz);
      const env = process.env;
      const ctx = await openContext(opts);
      try {
        const { server, url, lines } = await startServer(ctx, {
          host: opts.host,
          port,
          profiles,
          timeZone,
          token: opts.token ?? env.EVENTLOG_API_TOKEN,
          proxyUser: opts.proxyUser ?? env.EVENTLOG_PROXY_USER,
          proxyPassword: opts.proxyPassword ?? env.EVENTLOG_PROXY_PASSWORD,
          newApiToken: opts.newApiToken ?? env.EVENTLOG_NEW_API_TOKEN,
          xuiAccessCode: opts.xuiAccessCode ?? env.EVENTLOG_XUI_ACCESS_CODE,
          xuiApiKey: opts.xuiApiKey ?? env.EVENTLOG_XUI_API_KEY,
          mediacpToken: opts.mediacpToken ?? env.EVENTLOG_MEDIACP_TOKEN,
          unifiToken: opts.unifiToken ?? env.EVENTLOG_UNIFI_TOKEN,
          viewerSecret: env.EVENTLOG_VIEWER_SECRET,
        });
        io.out(`eventlog serving ${ctx.target.engine} ${redact(ctx.target.location)} at ${url}\n${lines.join('\n')}\n`);
        await new Promise<void>((resolve) => io.signal.addEventListener('abort', () => resolve(), { once: true }));
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      } finally {
        await ctx.log.close();
      }
    });

  return program;
}

/**
 * Runs the command line and resolves with the exit code: 0 done, 1 failure, 2 usage error,
 * 130 interrupted. Errors are printed as one clear line, never as a stack trace.
 *
 * @example
 * ```ts
 * import { run } from '@eventlog/cli';
 * process.exitCode = await run(process.argv);
 * ```
 */
export async function run(argv: readonly string[], io?: Partial<ProgramIo>): Promise<number> {
  const controller = new AbortController();
  const full: ProgramIo = {
    out: io?.out ?? ((t) => process.stdout.write(t)),
    err: io?.err ?? ((t) => process.stderr.write(t)),
    signal: io?.signal ?? controller.signal,
  };
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    if (interrupts > 1) {
      full.err('Interrupted again: exiting without waiting.\n');
      process.exit(EXIT_INTERRUPTED);
    }
    full.err('\nStopping: storing what was read… (Ctrl+C again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const program = createProgram(full);
  try {
    await program.parseAsync([...argv]);
    return program.exitCode ?? 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return 0;
      return EXIT_USAGE;
    }
    if (error instanceof CliError) {
      full.err(`eventlog: ${error.message}\n`);
      return error.exitCode;
    }
    if (isEventLogError(error, 'VALIDATION_FAILED')) {
      full.err(`eventlog: ${(error as Error).message}\n`);
      return EXIT_USAGE;
    }
    full.err(`eventlog: ${error instanceof Error ? error.message : String(error)}\n`);
    if (process.env.EVENTLOG_DEBUG && error instanceof Error && error.stack) full.err(`${error.stack}\n`);
    return EXIT_FAILURE;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
