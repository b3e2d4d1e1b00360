import { B24ValidationError } from '../errors/validation-error.js';
import { checkScheme } from './endpoint.js';
import type { Auth } from './types.js';

/** `decodeURIComponent`, or the text as it is when it is not valid percent-encoding. */
function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

const WEBHOOK_PATH = /^(.*\/rest\/)(\d+)\/([^/]+)\/?(?:[a-z0-9_.]+(?:\.json)?)?$/i;

/**
 * Calls through an inbound webhook: `https://PORTAL/rest/USER_ID/CODE/METHOD`. The code is the
 * secret: it is kept out of every message, including this validation's.
 */
export function webhookAuth(webhookUrl: string, allowHttp: boolean): Auth {
  const field = 'webhookUrl';
  // Plain JavaScript callers can pass anything; a TypeError from trim() would not say which field.
  if (typeof webhookUrl !== 'string') {
    throw new B24ValidationError(field, 'expected a string like https://PORTAL/rest/USER_ID/CODE/');
  }
  let url: URL;
  try {
    url = new URL(webhookUrl.trim());
  } catch {
    throw new B24ValidationError(field, 'expected a URL like https://PORTAL/rest/USER_ID/CODE/');
  }
  checkScheme(url, field, allowHttp);
  const m = WEBHOOK_PATH.exec(url.pathname);
  if (!m) {
    throw new B24ValidationError(
      field,
      `expected https://${url.host}/rest/USER_ID/CODE/ (the path does not have that shape)`,
    );
  }
  const code = m[3] as string;
  const base = `${url.origin}${m[1]}${m[2]}/${code}/`;
  return {
    host: url.host,
    url: (method) => `${base}${method}`,
    credentials: () => Promise.resolve({ body: {}, used: 'webhook' }),
    // As typed and as the URL encodes it: an error may quote either.
    secrets: () => [code, decodeURIComponentSafe(code)],
    refresh: () => Promise.resolve(false),
  };
}
