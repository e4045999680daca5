import { closeSync, openSync, writeSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { type EventInput, type EventLog, isEventLogError } from '@eventlog/core';
import { CliError, UsageError } from '../errors.js';
import { createProgress, type ProgressMode } from '../progress.js';
import { type Checkpoint, checkpointPath, headHash, readCheckpoint, stateDirectory, writeCheckpoint } from './checkpoint.js';
import { createLineParser, detectFormat, type ImportFormat, type LineParser, type ParserOptions } from './formats.js';
import { fileHead, openInput } from './lines.js';

/** Options of {@link importFiles}. */
export interface ImportOptions {
  /** Format of every input; detected per input from its first line when absent. */
  format?: ImportFormat;
  /** Events per `recordMany` call (one transaction). @default 5000 */
  batchSize: number;
  /** Where rejected lines go (JSON lines with file, line, reason, text). @default `<first input>.rejects.jsonl` in the working directory */
  rejects?: string;
  /** Directory of resume checkpoints: the flag, else `EVENTLOG_STATE_DIR`, else `$XDG_STATE_HOME/eventlog/imports`. */
  stateDir?: string;
  /** Ignore checkpoints and read every input from its start. */
  restart?: boolean;
  /** Identifies the store in checkpoint keys. */
  db: string;
  parser: ParserOptions;
  progress: ProgressMode;
  /** Stops the import between lines; what was parsed so far is stored first. */
  signal: AbortSignal;
  /** The store assigns increasing ids and returns them, so an in-doubt batch can be settled on resume. @default false */
  increasingIds?: boolean;
  /** Writes a message line for the user (stderr). */
  say: (line: string) => void;
}

/** What one input gave. */
export interface FileSummary {
  file: string;
  format: ImportFormat | null;
  /** Events stored by this run. */
  stored: number;
  /** Lines rejected by this run. */
  rejected: number;
  /** The line this run started after (0 = from the start). */
  resumedAfterLine: number;
  /** The last line this run consumed. */
  lastLine: number;
  /** The byte offset (of the decompressed input) this run got to. */
  offset: number;
}

/** Totals of an import run. */
export interface ImportSummary {
  files: FileSummary[];
  stored: number;
  rejected: number;
  /** The file rejected lines went to, when there were any. */
  rejectsFile: string | null;
  /** Ctrl+C stopped the run before the end. */
  interrupted: boolean;
}

/** Only the last id of a batch is kept, so the stored events are not built. */
const IDS_ONLY = { returning: 'ids' } as const;

interface Pending {
  event: EventInput;
  line: number;
  text: string;
}

/**
 * Imports inputs into the log in `recordMany` batches, streaming each in constant memory. Bad lines
 * go to the rejects file and never stop the run. After every stored batch a checkpoint records the
 * byte offset reached, so running the same command again continues after it (see docs/cli.md).
 */
export async function importFiles(log: EventLog, inputs: readonly string[], options: ImportOptions): Promise<ImportSummary> {
  if (inputs.length === 0) throw new UsageError('import: name at least one FILE, or - for standard input.');
  if (inputs.filter((i) => i === '-').length > 1) throw new UsageError('import: standard input (-) can be read only once.');
  const rejectsPath = resolve(options.rejects ?? `${inputs[0] === '-' ? 'stdin' : basename(inputs[0]!)}.rejects.jsonl`);
  let rejectsFd: number | null = null;
  const reject = (file: string, line: number, reason: string, text: string) => {
    rejectsFd ??= openSync(rejectsPath, 'a');
    writeSync(rejectsFd, `${JSON.stringify({ file, line, reason, text: text.length > 4096 ? `${text.slice(0, 4096)}…` : text })}\n`);
  };
  const summary: ImportSummary = { files: [], stored: 0, rejected: 0, rejectsFile: null, interrupted: false };
  try {
    for (const input of inputs) {
      if (options.signal.aborted) break;
      const file = await importOne(log, input, options, reject);
      summary.files.push(file);
      summary.stored += file.stored;
      summary.rejected += file.rejected;
    }
  } finally {
    if (rejectsFd !== null) {
      closeSync(rejectsFd);
      summary.rejectsFile = rejectsPath;
    }
  }
  summary.interrupted = options.signal.aborted;
  return summary;
}

async function importOne(
  log: EventLog,
  input: string,
  options: ImportOptions,
  reject: (file: string, line: number, reason: string, text: string) => void,
): Promise<FileSummary> {
  const isStdin = input === '-';
  const file = isStdin ? '-' : resolve(input);
  const label = isStdin ? 'stdin' : input;
  let statePath: string | null = null;
  let state: Checkpoint | null = null;
  let head = '';
  if (!isStdin) {
    try {
      head = headHash(fileHead(file));
    } catch (error) {
      throw new CliError(`Cannot read ${input}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(error)}.`);
    }
    statePath = checkpointPath(stateDirectory(options.stateDir), file, options.db);
    const saved = options.restart ? null : readCheckpoint(statePath);
    if (saved && saved.head === head) state = saved;
    else if (saved) options.say(`${label}: the file changed since the last import (rotated or replaced); reading it from the start.`);
  }
  if (state && options.format && state.format !== options.format) {
    throw new UsageError(`${label} was imported as ${state.format} before; add --restart to import it again as ${options.format}.`);
  }
  if (state?.pending && state.lastId !== undefined) state = await settlePending(log, state, label, options.say);
  let initialLastId = state?.lastId;
  if (initialLastId === undefined && options.increasingIds && statePath) {
    // Ids above this one are this import's, so even the first batch can be settled after a crash.
    // Asked before the input is opened: a flowing stream must not wait on a query.
    initialLastId = (await log.query({ sort: { field: 'id', direction: 'desc' }, limit: 1 })).items[0]?.id ?? 0;
  }
  const startOffset = state?.offset ?? 0;
  const startLine = state?.line ?? 0;
  if (state && startLine > 0) options.say(`${label}: resuming after line ${startLine} (byte ${startOffset}).`);

  const source = openInput(isStdin ? '-' : file, startOffset, startLine);
  const summary: FileSummary = {
    file: label,
    format: (state?.format as ImportFormat | undefined) ?? options.format ?? null,
    stored: 0,
    rejected: 0,
    resumedAfterLine: startLine,
    lastLine: startLine,
    offset: startOffset,
  };
  let parser: LineParser | null = summary.format ? createLineParser(summary.format, options.parser) : null;
  let csvHeader = state?.header;
  if (parser && csvHeader !== undefined) parser.parse(csvHeader);

  const progress = createProgress({
    label: `import ${label}`,
    unit: 'bytes',
    itemName: 'events',
    total: source.size,
    mode: options.progress,
  });
  let batch: Pending[] = [];
  let inflight: Promise<void> = Promise.resolve();
  let failure: unknown = null;
  const totals = { stored: state?.stored ?? 0, rejected: state?.rejected ?? 0 };

  let lastId = initialLastId;
  const save = (offset: number, line: number, pending?: Checkpoint['pending']) => {
    if (!statePath || !summary.format) return;
    const checkpoint: Checkpoint = {
      version: 1,
      file,
      db: options.db,
      head,
      offset,
      line,
      format: summary.format,
      ...(csvHeader !== undefined ? { header: csvHeader } : {}),
      stored: totals.stored,
      rejected: totals.rejected,
      ...(lastId !== undefined ? { lastId } : {}),
      ...(pending ? { pending } : {}),
      updated: new Date().toISOString(),
    };
    writeCheckpoint(statePath, checkpoint);
  };

  const noteIds = (ids: number[]) => {
    const id = ids[ids.length - 1] ?? 0;
    // Stores that return no ids (id 0) cannot settle an in-doubt batch; the checkpoint then has no lastId.
    if (id > 0) lastId = Math.max(lastId ?? 0, id);
  };
  let savedOffset = startOffset;
  let savedLine = startLine;

  const store = async (events: Pending[]) => {
    try {
      noteIds(
        await log.recordMany(
          events.map((p) => p.event),
          IDS_ONLY,
        ),
      );
      return events.length;
    } catch (error) {
      if (!isEventLogError(error, 'VALIDATION_FAILED')) throw error;
    }
    // One bad event fails the whole call; find the bad ones, reject them, store the rest.
    const invalid = new Map(log.validate(events.map((p) => p.event)).map((v) => [v.index, v.issues] as const));
    const good: EventInput[] = [];
    events.forEach((p, i) => {
      const issues = invalid.get(i);
      if (issues) {
        reject(
          label,
          p.line,
          `invalid event: ${issues.map((s) => `${s.path.slice(2).join('.') || 'event'} ${s.message}`).join('; ')}`,
          p.text,
        );
        summary.rejected++;
        totals.rejected++;
      } else good.push(p.event);
    });
    if (good.length > 0) noteIds(await log.recordMany(good, IDS_ONLY));
    return good.length;
  };

  // Keeps one batch in flight while the next is parsed; the checkpoint follows each stored batch in order.
  const commit = async (offset: number, line: number) => {
    const events = batch;
    batch = [];
    await inflight;
    if (failure) throw failure;
    inflight = (async () => {
      const last = events[events.length - 1]?.event;
      const time = last?.time instanceof Date ? last.time.getTime() : last?.time;
      if (last && typeof time === 'number' && lastId !== undefined) {
        save(savedOffset, savedLine, { offset, line, count: events.length, probe: { type: last.type, time } });
      }
      const n = events.length > 0 ? await store(events) : 0;
      summary.stored += n;
      totals.stored += n;
      summary.offset = offset;
      summary.lastLine = line;
      save(offset, line);
      savedOffset = offset;
      savedLine = line;
    })().catch((error) => {
      failure = error;
    });
  };

  let committedOffset = startOffset;
  let committedLine = startLine;
  try {
    outer: for await (const lines of source.lines()) {
      for (const line of lines) {
        if (options.signal.aborted) break outer;
        const text = line.text;
        if (text.trim() === '') {
          committedOffset = line.end;
          committedLine = line.number;
          continue;
        }
        if (!parser) {
          const format = detectFormat(text);
          if (!format) {
            source.close();
            throw new UsageError(
              `${label}: cannot tell the format from line ${line.number} (${JSON.stringify(text.slice(0, 60))}); give --format jsonl|csv|combined|squid.`,
            );
          }
          summary.format = format;
          parser = createLineParser(format, options.parser);
          if (format === 'csv') csvHeader = text;
        } else if (parser.format === 'csv' && csvHeader === undefined) csvHeader = text;
        const result = parser.parse(text);
        if ('event' in result) {
          batch.push({ event: result.event, line: line.number, text });
        } else if ('error' in result) {
          if (!line.terminated) {
            // A cut-off last line may be completed by its writer later; the checkpoint stays before it.
            reject(label, line.number, `truncated last line (no line break at the end): ${result.error}`, text);
            summary.rejected++;
            totals.rejected++;
            continue;
          }
          reject(label, line.number, result.error, text);
          summary.rejected++;
          totals.rejected++;
        } else if ('pending' in result) {
          continue;
        }
        committedOffset = line.end;
        committedLine = line.number;
        if (batch.length >= options.batchSize) await commit(committedOffset, committedLine);
      }
      progress.update(source.bytesRead(), totals.stored + batch.length);
    }
    if (!options.signal.aborted && parser) {
      const end = parser.finish();
      if (end) {
        reject(label, committedLine + 1, end.error, '');
        summary.rejected++;
        totals.rejected++;
      }
    }
    // Whatever was parsed is stored, interrupted or not ("flush what was accepted").
    await commit(committedOffset, committedLine);
    await inflight;
    if (failure) throw failure;
  } finally {
    source.close();
    progress.update(source.bytesRead(), totals.stored);
    progress.stop();
  }
  return summary;
}

/**
 * Decides an in-doubt batch after a run died between storing a batch and checkpointing it: when
 * the batch's last event is in the store with an id above every id stored before it, the batch
 * committed (it is one transaction) and the import continues after it.
 */
async function settlePending(log: EventLog, state: Checkpoint, label: string, say: (line: string) => void): Promise<Checkpoint> {
  const pending = state.pending!;
  const { pending: _pending, ...rest } = state;
  const newest = await log.query({
    filter: { type: pending.probe.type, since: pending.probe.time, until: pending.probe.time + 1 },
    sort: { field: 'id', direction: 'desc' },
    limit: 1,
  });
  const id = newest.items[0]?.id ?? 0;
  if (id > (state.lastId ?? 0)) {
    say(`${label}: the batch up to line ${pending.line} was stored before the last run stopped; continuing after it.`);
    return { ...rest, offset: pending.offset, line: pending.line, stored: state.stored + pending.count, lastId: id };
  }
  return rest;
}
