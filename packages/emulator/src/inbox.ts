import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONTROL_PREFIX } from './control/router.js';

/**
 * The inbox page's Content-Security-Policy: scripts and styles from the emulator only (no
 * inline ones), pictures from anywhere on http(s) since attachments link to them, calls only
 * back to the emulator. Even a rendering bug could not run a notification's text as script.
 */
export const INBOX_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: http:; " +
  "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Headers on every answer of the page and its assets. */
const SECURITY_HEADERS = {
  'content-security-policy': INBOX_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
} as const;

/**
 * Every URL the page is served at, and the built file behind it. A fixed list: no part of a
 * request's path ever becomes part of a file path, so there is nothing to traverse.
 */
const ASSETS: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/ui/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/ui/app.js.map': { file: 'app.js.map', type: 'application/json; charset=utf-8' },
  '/ui/styles.css': { file: 'styles.css', type: 'text/css; charset=utf-8' },
  '/ui/favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
};

/**
 * Where `npm run build` puts the page: `dist/ui` of this package. The same relative path works
 * from the built server (dist/*.js) and from the sources (src/*.ts, as tests run them).
 */
export const DEFAULT_UI_DIR = fileURLToPath(new URL('../dist/ui/', import.meta.url));

const NOT_BUILT = `<!doctype html>
<meta charset="utf-8">
<title>b24notify emulator</title>
<h1>b24notify emulator</h1>
<p>The inbox page is not built. Run <code>npm run build</code> in the repository (or the package)
and reload.</p>
<p>The portal works without it: REST methods answer under <code>/rest/</code>, token refresh under
<code>/oauth/token/</code>, and the inspection API under <code>${CONTROL_PREFIX}/</code>
(for example <a href="${CONTROL_PREFIX}/notifications">${CONTROL_PREFIX}/notifications</a>).</p>
`;

/** Whether a path belongs to the page: `/`, `/index.html` or anything under `/ui/`. */
export function isInboxPath(path: string): boolean {
  return path === '/' || path === '/index.html' || path.startsWith('/ui/');
}

function send(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  headers: Record<string, string | number>,
  body: Buffer | string,
): void {
  res.writeHead(status, { ...SECURITY_HEADERS, ...headers });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/**
 * Answer a request for the page or one of its assets from `dir`. Files are read on each
 * request (they are small), so a rebuild shows on reload; an ETag lets the browser skip
 * unchanged ones, and `no-cache` makes it ask, since the names carry no content hash.
 */
export async function serveInbox(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  dir: string = DEFAULT_UI_DIR,
): Promise<void> {
  const asset = Object.hasOwn(ASSETS, path) ? ASSETS[path] : undefined;
  if (!asset) {
    const body = JSON.stringify({ error: 'NOT_FOUND', error_description: `Nothing at ${path}` });
    send(
      req,
      res,
      404,
      { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
      body,
    );
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    const body = JSON.stringify({ error: 'METHOD_NOT_ALLOWED', error_description: `${req.method} ${path}` });
    send(req, res, 405, { allow: 'GET, HEAD', 'content-type': 'application/json; charset=utf-8' }, body);
    return;
  }
  let content: Buffer;
  try {
    content = await readFile(join(dir, asset.file));
  } catch {
    if (asset.file === 'index.html') {
      send(req, res, 200, { 'content-type': asset.type, 'cache-control': 'no-store' }, NOT_BUILT);
    } else {
      const body = JSON.stringify({
        error: 'NOT_FOUND',
        error_description: `${path}: the inbox page is not built`,
      });
      send(
        req,
        res,
        404,
        { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
        body,
      );
    }
    return;
  }
  const etag = `"${createHash('sha256').update(content).digest('base64url').slice(0, 27)}"`;
  const headers = { 'content-type': asset.type, 'cache-control': 'no-cache', etag };
  if (req.headers['if-none-match']?.split(/\s*,\s*/).includes(etag)) {
    send(req, res, 304, headers, '');
    return;
  }
  send(req, res, 200, { ...headers, 'content-length': content.length }, content);
}
