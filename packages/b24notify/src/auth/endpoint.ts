import { B24ValidationError } from '../errors/validation-error.js';

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

/** True for hosts that never leave this machine, where plain http exposes nothing. */
export function isLoopback(hostname: string): boolean {
  return LOOPBACK.test(hostname);
}

/**
 * Check a portal URL's scheme: https always; http only to loopback (the emulator) unless the
 * caller opted in, since a webhook code or token sent over http can be read on the way.
 */
export function checkScheme(url: URL, field: string, allowHttp: boolean): void {
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && (allowHttp || isLoopback(url.hostname))) return;
  if (url.protocol === 'http:') {
    throw new B24ValidationError(
      field,
      `plain http:// to ${url.host} would expose credentials: use https://, or pass allowHttp: true if you must`,
    );
  }
  throw new B24ValidationError(field, `expected an https:// URL, got a ${url.protocol} URL`);
}

/**
 * The REST base for a portal given as OPI does (`portal.bitrix24.com`, with or without
 * `https://` and `www.`) or as a full URL. A bare domain gets https, as OPI always uses; an
 * explicit `http://` is kept (subject to {@link checkScheme}).
 */
export function portalBase(portal: string, field: string, allowHttp: boolean): URL {
  if (typeof portal !== 'string') {
    throw new B24ValidationError(field, 'expected a string like "example.bitrix24.com"');
  }
  const trimmed = portal.trim();
  if (trimmed === '')
    throw new B24ValidationError(field, 'expected the portal domain, e.g. "example.bitrix24.com"');
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed);
  let url: URL;
  try {
    url = new URL(hasScheme ? trimmed : `https://${trimmed}`);
  } catch {
    throw new B24ValidationError(
      field,
      'expected a domain like "example.bitrix24.com" or a URL like "https://example.bitrix24.com"',
    );
  }
  checkScheme(url, field, allowHttp);
  url.hostname = url.hostname.replace(/^www\./i, '');
  url.pathname = '/rest/';
  url.search = '';
  url.hash = '';
  return url;
}
