import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { ControlError } from './types.js';

/**
 * Who may write through the control API. Any web page the user visits can send a "simple"
 * request to 127.0.0.1 (`fetch(url, {method: 'POST', mode: 'no-cors'})`, a `<form>`): the
 * browser does not let it read the answer, but the write happens. So a write (any method but
 * GET and HEAD) is refused with 403 when a browser says it comes from another origin, and with
 * 415 when it carries a body that is not `application/json`, a type no page can send without
 * a CORS preflight, which this API never grants. Local mail catchers such as Mailpit guard
 * their APIs the same way.
 *
 * Requests without `Origin` and `Sec-Fetch-Site` (curl, Node, the CLI, the b24notify library)
 * are not a browser's and pass; so does the inbox page, which is same-origin. Reads are not
 * guarded: a foreign page cannot read them, since no answer carries CORS headers.
 *
 * The emulator's own origin is the scheme plus the Host the browser sent, when that host is
 * an IP address, `localhost` (or a name under it) or one of `trustedNames` (the portal's
 * `domain`). Any other name could be a page's own domain pointed at 127.0.0.1 after it loaded
 * (DNS rebinding), which makes the page "same-origin" with whatever answers there.
 */
export function guardOrigin(req: IncomingMessage, trustedNames: readonly string[] = []): void {
  if (!isWrite(req)) return;
  // `same-site` is another origin too: http://127.0.0.1:3000 is same-site with this emulator.
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') {
    throw new ControlError(
      `Sec-Fetch-Site: ${site}: the control API accepts writes only from its own origin`,
      403,
    );
  }
  const origin = req.headers.origin;
  if (origin !== undefined) {
    // The Host the browser sent is the origin it sees, whichever name it used (127.0.0.1,
    // localhost, a container's name).
    const secure = (req.socket as { encrypted?: boolean }).encrypted === true;
    const host = req.headers.host ?? '';
    const own = `${secure ? 'https' : 'http'}://${host}`;
    if (!isTrustedHost(host, trustedNames)) {
      throw new ControlError(
        `Host ${host.slice(0, 200)} is not an IP address, localhost or the portal's domain: the control API accepts browser writes only there`,
        403,
      );
    }
    if (origin.toLowerCase() !== own.toLowerCase()) {
      throw new ControlError(
        `Origin ${origin.slice(0, 200)} is not this emulator's own (${own}): the control API accepts writes only from its own origin`,
        403,
      );
    }
  }
}

/** The second half of the rule above, once the body is read: a write's body must be JSON. */
export function guardBodyType(req: IncomingMessage, body: Buffer): void {
  if (isWrite(req) && body.length > 0 && !isJsonType(req.headers['content-type'])) {
    throw new ControlError(
      'content-type: a control API body must be application/json (send no body for none)',
      415,
    );
  }
}

function isTrustedHost(host: string, trustedNames: readonly string[]): boolean {
  let name: string;
  try {
    name = new URL(`http://${host}`).hostname.toLowerCase();
  } catch {
    return false;
  }
  if (name.startsWith('[') && name.endsWith(']')) name = name.slice(1, -1);
  if (isIP(name) !== 0 || name === 'localhost' || name.endsWith('.localhost')) return true;
  return trustedNames.some((trusted) => trusted.toLowerCase() === name);
}

function isWrite(req: IncomingMessage): boolean {
  return req.method !== 'GET' && req.method !== 'HEAD';
}

function isJsonType(contentType: string | undefined): boolean {
  return contentType?.split(';')[0]?.trim().toLowerCase() === 'application/json';
}
