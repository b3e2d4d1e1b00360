/** The path and query of a request target, as the router reads them. */
export interface RequestTarget {
  /** The path, as `URL.pathname` gives it (dot segments resolved, unsafe characters escaped). */
  pathname: string;
  /** `?` and the query, or `''` when there is none or it is empty, as `URL.search` gives it. */
  search: string;
}

/**
 * Characters that `new URL()` keeps as they are in a path and a query: letters, digits and
 * `-._~!$&()*+,;=:@%/`. Anything else (spaces, quotes, `\`, `#`, non-ASCII…) may be escaped
 * or rewritten, so a target holding one goes to the URL parser. `'` is kept in a path but
 * escaped in a query of an http URL, so it is left out of both for simplicity.
 */
const PLAIN = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&()*+,;=:@%/') {
  PLAIN[c.charCodeAt(0)] = 1;
}

const DOT = 0x2e;
const PERCENT = 0x25;
const SLASH = 0x2f;
const QUESTION = 0x3f;

/** A `.` or `..` segment, also percent-encoded (`%2e`), which the URL parser resolves away. */
function isDotSegment(target: string, start: number, end: number): boolean {
  const segment = target.slice(start, end).toLowerCase().replaceAll('%2e', '.');
  return segment === '.' || segment === '..';
}

/**
 * `target` split as `new URL(target, 'http://localhost')` splits it, or undefined when that
 * throws. Every request is routed on its path, and most targets are plain (`/rest/1/CODE/
 * im.notify.personal.add`), for which the URL parser would change nothing: those are cut
 * here without building a URL (see `bench/emulator.mjs`); any other goes to the parser, which
 * stays the authority (`test/target.test.ts` holds both to the same answers).
 */
export function parseTarget(target: string): RequestTarget | undefined {
  const n = target.length;
  // `//host/…` would name a host; a target not starting with `/` is absolute-form or worse.
  if (n === 0 || target.charCodeAt(0) !== SLASH || target.charCodeAt(1) === SLASH) return viaUrl(target);
  let segment = 1;
  let query = -1;
  for (let i = 1; i <= n; i++) {
    const code = i === n ? SLASH : target.charCodeAt(i);
    if (code === SLASH || code === QUESTION) {
      const first = target.charCodeAt(segment);
      // Only a segment starting with `.` or `%` can be a dot segment; the check is rare.
      if ((first === DOT || first === PERCENT) && i - segment <= 6 && isDotSegment(target, segment, i)) {
        return viaUrl(target);
      }
      if (code === QUESTION) {
        query = i;
        break;
      }
      segment = i + 1;
    } else if (code >= 128 || PLAIN[code] !== 1) return viaUrl(target);
  }
  if (query < 0) return { pathname: target, search: '' };
  for (let i = query + 1; i < n; i++) {
    const code = target.charCodeAt(i);
    if (code !== QUESTION && (code >= 128 || PLAIN[code] !== 1)) return viaUrl(target);
  }
  return { pathname: target.slice(0, query), search: query === n - 1 ? '' : target.slice(query) };
}

function viaUrl(target: string): RequestTarget | undefined {
  try {
    const url = new URL(target, 'http://localhost');
    return { pathname: url.pathname, search: url.search };
  } catch {
    return undefined;
  }
}
