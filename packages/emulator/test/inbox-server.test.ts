/**
 * How the emulator serves the inbox page: content types, caching, the CSP and other security
 * headers on the page and every asset, no way out of the fixed file list, and a clear page
 * when the UI has not been built. Over real HTTP, with raw request targets.
 */
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { resolveConfig } from '../src/config.js';
import { INBOX_CSP } from '../src/inbox.js';
import { startEmulator, type RunningEmulator } from '../src/index.js';
import { Portal } from '../src/portal/portal.js';
import { Store } from '../src/portal/store.js';
import { createServer } from '../src/server.js';

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request with the target exactly as given: fetch would normalize `..` away first. */
function raw(base: string, path: string, method = 'GET', headers: Record<string, string> = {}): Promise<Raw> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

let emu: RunningEmulator;
beforeAll(async () => {
  emu = await startEmulator({ portal: { plan: 'off' } });
});
afterAll(() => emu.close());

function expectSecurityHeaders(r: Raw): void {
  expect(r.headers['content-security-policy']).toBe(INBOX_CSP);
  expect(r.headers['x-content-type-options']).toBe('nosniff');
  expect(r.headers['referrer-policy']).toBe('no-referrer');
  expect(r.headers['x-frame-options']).toBe('DENY');
}

describe('serving the inbox page', () => {
  test('the CSP is the strict one the issue asks for', () => {
    expect(INBOX_CSP).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: http:; " +
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
  });

  test.each([
    ['/', 'text/html; charset=utf-8', '<script type="module" src="/ui/app.js">'],
    ['/index.html', 'text/html; charset=utf-8', '<title>Inbox'],
    ['/ui/app.js', 'text/javascript; charset=utf-8', 'EventSource'],
    ['/ui/styles.css', 'text/css; charset=utf-8', '.notification'],
    ['/ui/favicon.svg', 'image/svg+xml', '<svg'],
    ['/ui/app.js.map', 'application/json; charset=utf-8', '"mappings"'],
  ])('%s: content type, caching and security headers', async (path, type, content) => {
    const r = await raw(emu.url, path);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe(type);
    expect(r.headers['cache-control']).toBe('no-cache');
    expect(r.headers.etag).toMatch(/^"[\w-]+"$/);
    expect(r.body).toContain(content);
    expectSecurityHeaders(r);
  });

  test('an unchanged asset answers 304 to its ETag; HEAD has headers and no body', async () => {
    const first = await raw(emu.url, '/ui/app.js');
    const again = await raw(emu.url, '/ui/app.js', 'GET', { 'if-none-match': String(first.headers.etag) });
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
    expectSecurityHeaders(again);
    const head = await raw(emu.url, '/', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(Number(head.headers['content-length'])).toBeGreaterThan(100);
    expectSecurityHeaders(head);
  });

  test.each([
    '/ui/../package.json',
    '/ui/%2e%2e/package.json',
    '/ui/..%2fpackage.json',
    '/ui/..%5c..%5cpackage.json',
    '/ui/%2e%2e%2f%2e%2e%2fsrc%2fserver.ts',
    '/ui//etc/passwd',
    '/ui/app.js%00.css',
    '/ui/APP.JS',
    '/ui/',
    '/ui/index.html/',
    '/ui/constructor',
    '/ui/__proto__',
    '/../../etc/passwd',
  ])('no file outside the fixed list: %s', async (path) => {
    const r = await raw(emu.url, path);
    expect(r.status).toBe(404);
    expect(r.body).not.toContain('"name"');
    expect(r.body).not.toContain('root:');
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
  });

  test('other methods are refused; REST and the control API are where they were', async () => {
    const post = await raw(emu.url, '/', 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    const users = await raw(emu.url, '/_emulator/api/users');
    expect(users.status).toBe(200);
    expect(users.headers['content-security-policy']).toBeUndefined();
    const rest = await raw(emu.url, '/rest/server.time');
    expect(rest.headers['content-type']).toBe('application/json; charset=utf-8');
    const elsewhere = await raw(emu.url, '/favicon.ico');
    expect(elsewhere.status).toBe(404);
  });

  test('without a build, / says to run npm run build', async () => {
    const portal = new Portal(resolveConfig({}), new Store());
    const empty = mkdtempSync(join(process.env.B24NOTIFY_TEST_TMP ?? tmpdir(), 'b24emu-noui-'));
    let base = '';
    const server = createServer(portal, undefined, () => base, { uiDir: empty });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const page = await raw(base, '/');
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page.body).toContain('npm run build');
      expect(page.body).toContain('/_emulator/api/notifications');
      expectSecurityHeaders(page);
      const script = await raw(base, '/ui/app.js');
      expect(script.status).toBe(404);
      expect(script.body).toContain('not built');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
