import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { csvLine, csvPieces, csvRowColumn, DEFAULT_CSV_FIELDS, DEFAULT_TIME_FORMAT, type RowCsvColumn } from '../export/csv.js';
import { rowToEvent } from '../schema/event.js';
import type { Registry } from '../schema/registry.js';
import type { StoredRow } from '../storage/contract.js';
import type { ArchiveStream, JobArchive } from './job-types.js';

const gzip = promisify(gzipCallback);

/** An archive being written: append a batch (flushed when it resolves), then finish for the checksum. @internal */
export interface ArchiveWriter {
  /** Writes rows and resolves once they are on disk (file) or accepted (stream); returns the bytes written. */
  append(rows: readonly StoredRow[]): Promise<number>;
  /** Closes the file and returns the SHA-256 of everything in the archive (null when unknown). */
  finish(): Promise<string | null>;
  /** Closes without a checksum (the job stopped early). */
  close(): Promise<void>;
}

/** The file name of a directory archive. @internal */
export function archiveFileName(directory: string, name: string, jobId: string, format: 'jsonl' | 'csv', gzipped: boolean): string {
  const safe = name.replace(/[^A-Za-z0-9_.-]/g, '_');
  return join(directory, `${safe}-${jobId}.${format}${gzipped ? '.gz' : ''}`);
}

/**
 * Opens a job's archive where its record says it stands. A file is cut back to the recorded size
 * first: bytes past it were written by a process that died before recording them, and their rows
 * are still in the store, so they are written again (never twice).
 * @internal
 */
export async function openArchive(
  record: JobArchive,
  target: { file: string } | { stream: ArchiveStream; resumed: boolean },
  registry: Registry,
): Promise<ArchiveWriter> {
  const encode = encoder(record.format, registry);
  const pack = async (text: string) => {
    const raw = Buffer.from(text, 'utf8');
    return record.gzip ? gzip(raw) : raw;
  };
  let headerDone = record.bytes > 0;
  const body = (rows: readonly StoredRow[]) => {
    const text = (headerDone ? '' : encode.header) + encode.rows(rows);
    headerDone = true;
    return text;
  };

  if ('file' in target) {
    await mkdir(join(target.file, '..'), { recursive: true });
    const handle: FileHandle = await open(target.file, 'a+');
    await handle.truncate(record.bytes);
    let size = record.bytes;
    return {
      async append(rows) {
        const bytes = await pack(body(rows));
        await handle.write(bytes, 0, bytes.length, size);
        await handle.datasync();
        size += bytes.length;
        return bytes.length;
      },
      async finish() {
        await handle.close();
        return sha256File(target.file);
      },
      close: () => handle.close(),
    };
  }

  const hash = createHash('sha256');
  const { stream } = target;
  return {
    async append(rows) {
      const bytes = await pack(body(rows));
      await new Promise<void>((resolve, reject) => {
        stream.write(bytes, (error) => (error ? reject(error) : resolve()));
      });
      hash.update(bytes);
      return bytes.length;
    },
    finish: async () => (target.resumed ? null : hash.digest('hex')),
    close: async () => undefined,
  };
}

function encoder(format: 'jsonl' | 'csv', registry: Registry): { header: string; rows: (rows: readonly StoredRow[]) => string } {
  if (format === 'jsonl') {
    return { header: '', rows: (rows) => rows.map((row) => `${JSON.stringify(rowToEvent(row, registry))}\n`).join('') };
  }
  const context = { registry, timeZone: 'UTC', timeFormat: DEFAULT_TIME_FORMAT };
  const names = [...DEFAULT_CSV_FIELDS, ...registry.dimensions.keys(), ...registry.metrics.keys()];
  const columns = names.map((name) => csvRowColumn(name, context)).filter((c): c is RowCsvColumn => c !== null);
  return { header: csvLine(columns.map((c) => c.header)), rows: (rows) => csvPieces(columns, rows).join('') };
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
