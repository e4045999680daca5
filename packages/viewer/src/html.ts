import type { UiManifest } from './assets.js';

/** Escapes text for an HTML attribute value or element content. @internal */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** What the page needs to know, handed over in `data-` attributes (the CSP allows no inline script). @internal */
export interface PageConfig {
  readonly title: string;
  /** Absolute path of the native API, e.g. `/eventlog`. */
  readonly api: string;
  /** Absolute path the assets are served under, e.g. `/eventlog/viewer/assets`. */
  readonly assets: string;
  readonly manifest: UiManifest;
}

/** The page's index.html. @internal */
export function renderIndex(config: PageConfig): string {
  const title = escapeHtml(config.title);
  const asset = (name: string) => escapeHtml(`${config.assets}/${name}`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<title>${title}</title>
<link rel="stylesheet" href="${asset(config.manifest.css)}">
<script type="module" src="${asset(config.manifest.js)}"></script>
</head>
<body data-api="${escapeHtml(config.api)}" data-title="${title}">
<div id="app"><p class="boot">Loading ${title}…</p></div>
<noscript><p>This log viewer needs JavaScript.</p></noscript>
</body>
</html>
`;
}
