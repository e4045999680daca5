import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { CliError } from '../errors.js';

/** One line of an input, without its line break. */
export interface Line {
  text: string;
  /** 1-based line number. */
  number: number;
  /** Byte offset just past this line's break, in the (decompressed) input. */
  end: number;
  /** False for a last line that has no line break (possibly cut off). */
  terminated: boolean;
}

/** An opened input: its lines, and how much of the raw file has been read. */
export interface InputSource {
  /** `-` for standard input, else the path. */
  name: string;
  gzip: boolean;
  /** Size of the raw file in bytes; null for standard input. */
  size: number | null;
  /** Raw bytes read so far (compressed bytes for `.gz`). */
  bytesRead(): number;
  /** Lines in chunks (one array per read), starting after `startOffset`. */
  lines(): AsyncGenerator<Line[]>;
  /** Stops reading. */
  close(): void;
}

/** The first bytes of a file, to recognise it again when an import resumes. */
export function fileHead(path: string, bytes = 4096): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const n = readSync(fd, buffer, 0, bytes, 0);
    return buffer.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/**
 * Opens a file (or `-` for stdin), decompressing gzip (recognised by its magic bytes) on the fly,
 * and reads it from `startOffset` (a byte offset in the decompressed text) with line number
 * `startLine` already consumed. Memory stays bounded by the stream's chunk size and the longest line.
 */
export function openInput(name: string, startOffset = 0, startLine = 0): InputSource {
  let raw: Readable;
  let size: number | null = null;
  let gzip = false;
  if (name === '-') {
    raw = process.stdin;
  } else {
    try {
      size = statSync(name).size;
    } catch (error) {
      throw new CliError(`Cannot read ${name}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(error)}.`);
    }
    const head = size > 1 ? fileHead(name, 2) : Buffer.alloc(0);
    gzip = head[0] === 0x1f && head[1] === 0x8b;
    // A plain file resumes by seeking; a gzip stream must be decompressed from the start and skipped.
    raw = createReadStream(name, { highWaterMark: 256 * 1024, ...(gzip || startOffset === 0 ? {} : { start: startOffset }) });
  }
  let rawRead = !gzip && name !== '-' ? startOffset : 0;
  raw.on('data', (chunk: Buffer) => {
    rawRead += chunk.length;
  });
  const text: Readable = gzip ? raw.pipe(createGunzip({ chunkSize: 256 * 1024 })) : raw;
  if (gzip) raw.on('error', (error) => text.destroy(error));
  const skip = gzip ? startOffset : 0;

  async function* lines(): AsyncGenerator<Line[]> {
    let offset = gzip ? 0 : startOffset;
    let toSkip = skip;
    let number = startLine;
    let rest: Buffer | null = null;
    for await (const piece of text as AsyncIterable<Buffer>) {
      let chunk: Buffer = piece;
      if (toSkip > 0) {
        const n = Math.min(toSkip, chunk.length);
        toSkip -= n;
        offset += n;
        chunk = chunk.subarray(n);
        if (chunk.length === 0) continue;
      }
      const buffer: Buffer = rest ? Buffer.concat([rest, chunk]) : chunk;
      const base = offset - (rest ? rest.length : 0);
      const out: Line[] = [];
      let start = 0;
      for (;;) {
        const nl = buffer.indexOf(10, start);
        if (nl < 0) break;
        const stop = nl > start && buffer[nl - 1] === 13 ? nl - 1 : nl;
        number++;
        out.push({ text: buffer.toString('utf8', start, stop), number, end: base + nl + 1, terminated: true });
        start = nl + 1;
      }
      offset += chunk.length;
      rest = start < buffer.length ? buffer.subarray(start) : null;
      if (rest && rest.length > 16 * 1024 * 1024)
        throw new CliError(`${name}: line ${number + 1} is longer than 16 MB; is this a log file?`);
      if (out.length > 0) yield out;
    }
    if (rest && rest.length > 0) {
      number++;
      yield [{ text: rest.toString('utf8').replace(/\r$/, ''), number, end: offset, terminated: false }];
    }
  }

  return {
    name,
    gzip,
    size,
    bytesRead: () => rawRead,
    lines,
    close: () => {
      if (raw !== process.stdin) raw.destroy();
      else raw.pause();
      if (text !== raw) text.destroy();
    },
  };
}
