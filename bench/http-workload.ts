import { createServer, Agent as HttpAgent, request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { loadavg } from 'node:os';
import type { EventLog } from '@eventlog/core';
import { createHandler, native } from '@eventlog/http';
import { toNodeHandler } from '@eventlog/http/node';
import { TENANTS } from './generate.js';
import { now, type PairOptions, quantile } from './measure.js';
import { type BenchResult, result } from './report.js';
import type { BenchContext } from './workloads.js';

// A paged query through the HTTP handler over a real loopback socket, against the same query
// through the core in the same process. Both sides run interleaved (A B, B A, …) so that load from
// other processes hits them alike, and each side's CPU time per request is reported too: CPU time is
// what the HTTP layer adds, and unlike latency it does not grow when the machine is busy.

/** How the benchmark's client talks to the server. */
export type HttpClientKind = 'raw' | 'node';

export interface HttpPageOptions {
  /** Engine label of the results. */
  engine: string;
  /** Sequential interleaved iterations (each: one core call and one request). */
  pair: PairOptions;
  /** Requests per side for the throughput figure. */
  requests: number;
  /** Requests in flight for the throughput figure (one keep-alive connection each). */
  concurrency: number;
  /**
   * `raw`: a minimal keep-alive HTTP/1.1 client on `net` sockets, whose own cost is a few
   * microseconds, so the figures are the server side's; `node`: `http.request` with a keep-alive
   * Agent, as a Node host calling the API would (its client cost counts on the HTTP side).
   */
  client: HttpClientKind;
  progress?: (message: string) => void;
}

/** One request at a time over one kept-alive socket; answers with the body's length in bytes. */
interface Connection {
  get(path: string): Promise<number>;
  close(): void;
}

/**
 * The smallest client that still speaks HTTP/1.1 properly for these answers: it sends a GET, reads
 * the status line and headers, then skips a Content-Length or chunked body without copying it, and
 * keeps the socket open.
 */
function rawConnection(port: number): Connection {
  const socket: Socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  // Where the parser is: in the head, in a fixed-length body, at a chunk-size line, or skipping
  // `remaining` bytes of chunk data (with its CRLF) or of the final CRLF.
  let state: 'head' | 'fixed' | 'size' | 'chunk' | 'last' = 'head';
  let carry: Buffer = Buffer.alloc(0);
  let remaining = 0;
  let bodyBytes = 0;
  let status = 0;
  let waiting: { resolve: (n: number) => void; reject: (e: Error) => void } | undefined;
  const finish = () => {
    const done = waiting;
    waiting = undefined;
    state = 'head';
    if (status !== 200) done?.reject(new Error(`HTTP ${status}`));
    else done?.resolve(bodyBytes);
  };
  socket.on('data', (chunk: Buffer) => {
    const buf = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    carry = Buffer.alloc(0);
    let at = 0;
    while (at < buf.length) {
      if (state === 'head' || state === 'size') {
        const end = buf.indexOf(state === 'head' ? '\r\n\r\n' : '\r\n', at);
        if (end < 0) {
          carry = buf.subarray(at);
          return;
        }
        const text = buf.toString('latin1', at, end);
        if (state === 'head') {
          at = end + 4;
          status = Number(text.slice(9, 12));
          bodyBytes = 0;
          const length = /\r\ncontent-length: *(\d+)/i.exec(text);
          if (length) [state, remaining, bodyBytes] = ['fixed', Number(length[1]), Number(length[1])];
          else if (/\r\ntransfer-encoding: *chunked/i.test(text)) state = 'size';
          else return waiting?.reject(new Error(`answer without a length: ${text}`));
        } else {
          at = end + 2;
          const size = Number.parseInt(text, 16);
          bodyBytes += size;
          [state, remaining] = size === 0 ? ['last', 2] : ['chunk', size + 2];
        }
      } else {
        const skip = Math.min(remaining, buf.length - at);
        at += skip;
        remaining -= skip;
        if (remaining > 0) return;
        if (state === 'chunk') state = 'size';
        else finish();
      }
    }
    if (state === 'fixed' && remaining === 0) finish();
  });
  socket.on('error', (error) => waiting?.reject(error));
  socket.on('close', () => waiting?.reject(new Error('the server closed the connection')));
  return {
    get(path) {
      return new Promise<number>((resolve, reject) => {
        waiting = { resolve, reject };
        socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
      });
    },
    close: () => socket.destroy(),
  };
}

/** `http.request` through a keep-alive Agent limited to one socket, so each connection object keeps its own socket. */
function nodeConnection(port: number): Connection {
  const agent = new HttpAgent({ keepAlive: true, maxSockets: 1 });
  return {
    get(path) {
      return new Promise<number>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, path, agent }, (res) => {
          let bytes = 0;
          res.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
          });
          res.on('end', () => (res.statusCode === 200 ? resolve(bytes) : reject(new Error(`HTTP ${res.statusCode}`))));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      });
    },
    close: () => agent.destroy(),
  };
}

type Side = (i: number, c: number) => Promise<number>;

interface Samples {
  ms: number[];
  cpu: number[];
}

/** Runs the sides in turn, rotating which goes first, timing each call's wall and CPU time. */
async function rotate(sides: Side[], pair: PairOptions): Promise<Samples[]> {
  for (let i = 0; i < pair.warmup; i++) for (const side of sides) await side(i, 0);
  const samples = sides.map(() => ({ ms: [] as number[], cpu: [] as number[] }));
  const started = now();
  for (let i = 0; i < pair.maxIterations; i++) {
    if (i >= pair.minIterations && now() - started > pair.budgetMs) break;
    for (let k = 0; k < sides.length; k++) {
      const s = (i + k) % sides.length;
      const c0 = process.cpuUsage();
      const t0 = now();
      await (sides[s] as Side)(i, 0);
      const t1 = now();
      const cpu = process.cpuUsage(c0);
      (samples[s] as Samples).ms.push(t1 - t0);
      (samples[s] as Samples).cpu.push((cpu.user + cpu.system) / 1000);
    }
  }
  return samples;
}

/**
 * Measures the native `GET /eventlog/events?tenantId=…&limit=50` against `log.query` with the same
 * filter, and against a bare `node:http` listener making the same core call and writing its JSON:
 * the floor any HTTP layer on this socket pays, which tells the handler's own cost apart from what
 * the socket and the scheduler add on a busy machine.
 */
export async function measureHttpPage(log: EventLog, options: HttpPageOptions): Promise<BenchResult[]> {
  const handler = createHandler({
    log,
    profiles: [native({ authenticate: () => ({ role: 'admin' }) })],
    // A paged read records no audit event, so a log without the audit preset can serve it.
    checkPresets: false,
  });
  const listener = toNodeHandler(handler);
  const server = createServer((req, res) => {
    if (!req.url?.startsWith('/bare?')) return listener(req, res);
    const tenantId = new URLSearchParams(req.url.slice(6)).get('tenantId') ?? '';
    log.query({ filter: { tenantId }, limit: 50 }).then(
      (page) => {
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ data: page.items, nextCursor: page.nextCursor }));
      },
      () => {
        res.writeHead(500);
        res.end();
      },
    );
  });
  // Rounds of one side leave the other side's sockets idle for a while.
  server.keepAliveTimeout = 600_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const open = options.client === 'raw' ? rawConnection : nodeConnection;
  const connections = Array.from({ length: Math.max(1, options.concurrency) }, () => open(port));
  const tenant = (i: number) => TENANTS[i % TENANTS.length] as string;
  const viaCore: Side = async (i) => {
    const page = await log.query({ filter: { tenantId: tenant(i) }, limit: 50 });
    // The HTTP side serialises its answer; so does this side, so both produce the same bytes.
    return Buffer.byteLength(JSON.stringify({ data: page.items, nextCursor: page.nextCursor }));
  };
  const viaHttp: Side = (i, c) => (connections[c] as Connection).get(`/eventlog/events?tenantId=${tenant(i)}&limit=50`);
  const viaBare: Side = (i, c) => (connections[c] as Connection).get(`/bare?tenantId=${tenant(i)}`);

  try {
    const [coreBytes, httpBytes, bareBytes] = [await viaCore(0, 0), await viaHttp(0, 0), await viaBare(0, 0)];
    if (coreBytes !== httpBytes || coreBytes !== bareBytes) {
      throw new Error(`http-page: the core's page is ${coreBytes} bytes, the handler's ${httpBytes}, the bare listener's ${bareBytes}`);
    }

    options.progress?.(`http-page: latency and CPU, interleaved (${options.client} client)`);
    const [core, http, bare] = (await rotate([viaCore, viaHttp, viaBare], options.pair)) as [Samples, Samples, Samples];

    // Throughput in alternating rounds (core, http, http, core, …) with `concurrency` in flight.
    options.progress?.(`http-page: throughput, ${options.concurrency} in flight`);
    const round = async (fn: Side, count: number) => {
      let next = 0;
      const t0 = now();
      await Promise.all(
        connections.map(async (_, c) => {
          while (next < count) await fn(next++, c);
        }),
      );
      return now() - t0;
    };
    const rounds = 4;
    const perRound = Math.max(1, Math.ceil(options.requests / rounds));
    let coreMs = 0;
    let httpMs = 0;
    for (let r = 0; r < rounds; r++) {
      if (r % 2 === 0) {
        coreMs += await round(viaCore, perRound);
        httpMs += await round(viaHttp, perRound);
      } else {
        httpMs += await round(viaHttp, perRound);
        coreMs += await round(viaCore, perRound);
      }
    }
    const rps = (ms: number) => (rounds * perRound) / (ms / 1000);

    const perRequest = (x: Samples) => x.cpu.reduce((s, v) => s + v, 0) / x.cpu.length;
    const p50 = (x: Samples) => quantile(x.ms, 0.5);
    const note = `tenant-filtered keyset page of 50 (${httpBytes} bytes), ${http.ms.length} interleaved rounds, ${options.client} keep-alive client, load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`;
    const engine = `${options.engine}+http`;
    const target = { maxRatio: 1.25 };
    const vsBare = 'raw = a bare node:http listener making the same core call on the same socket';
    return [
      result(engine, 'http page CPU per request', 'time', perRequest(http), 'ms', perRequest(core), { target, note }),
      result(engine, 'http page p50 latency', 'time', p50(http), 'ms', p50(core), { target, note }),
      result(engine, 'http page p95 latency', 'time', quantile(http.ms, 0.95), 'ms', quantile(core.ms, 0.95), { note }),
      result(engine, `http page throughput (${options.concurrency} in flight)`, 'throughput', rps(httpMs), 'req/s', rps(coreMs), { note }),
      result(engine, 'http page CPU per request vs bare node:http', 'time', perRequest(http), 'ms', perRequest(bare), { note: vsBare }),
      result(engine, 'http page p50 latency vs bare node:http', 'time', p50(http), 'ms', p50(bare), { note: vsBare }),
    ];
  } finally {
    for (const c of connections) c.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** The `http-page` workload of `pnpm bench`: {@link measureHttpPage} on the run's store. */
export async function httpPageWorkload(bench: BenchContext): Promise<void> {
  const results = await measureHttpPage(bench.log, {
    engine: bench.engine.name,
    pair: { ...bench.query, warmup: 100, minIterations: 500, maxIterations: 5000 },
    requests: 2000,
    concurrency: 8,
    client: 'raw',
    progress: (message) => bench.progress(message),
  });
  for (const r of results) bench.report(r);
}
