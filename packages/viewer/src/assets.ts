import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** What scripts/build-ui.mjs writes next to the bundle. @internal */
export interface UiManifest {
  /** File name of the JavaScript bundle (content-hashed). */
  readonly js: string;
  /** File name of the stylesheet (content-hashed). */
  readonly css: string;
  /** Size of the bundle after gzip, in bytes. */
  readonly jsGzipBytes: number;
}

/** One asset ready to serve. @internal */
export interface Asset {
  readonly body: Uint8Array<ArrayBuffer>;
  readonly type: string;
  readonly etag: string;
}

/** The built page: its manifest and its files by name. @internal */
export interface UiAssets {
  readonly manifest: UiManifest;
  readonly files: ReadonlyMap<string, Asset>;
}

const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

/**
 * Where the built page lives: `dist/ui` beside the built module, or (running from source, as the
 * workspace's tests and examples do) `../dist/ui` from `src/`.
 */
function uiDirectory(): string | null {
  for (const relative of ['./ui/', '../dist/ui/']) {
    const dir = fileURLToPath(new URL(relative, import.meta.url));
    if (existsSync(`${dir}manifest.json`)) return dir;
  }
  return null;
}

/** Loads the built page once; throws with the command that builds it when it is missing. @internal */
export function loadUiAssets(): UiAssets {
  const dir = uiDirectory();
  if (!dir) {
    throw new Error('The viewer page is not built (dist/ui is missing): run `pnpm --filter @eventlog/viewer build`.');
  }
  const manifest = JSON.parse(readFileSync(`${dir}manifest.json`, 'utf8')) as UiManifest;
  const files = new Map<string, Asset>();
  for (const name of [manifest.js, manifest.css]) {
    const body = new Uint8Array(readFileSync(`${dir}${name}`));
    const extension = name.slice(name.lastIndexOf('.') + 1);
    files.set(name, { body, type: TYPES[extension] ?? 'application/octet-stream', etag: etagOf(body) });
  }
  return { manifest, files };
}

/** A strong ETag of some bytes. @internal */
export function etagOf(body: Uint8Array | string): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
}
