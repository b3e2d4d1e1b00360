/**
 * Request parameters as a Bitrix24 portal sees them (spec §1: a server must accept query
 * strings, JSON bodies, urlencoded bodies and multipart bodies with PHP-style keys).
 *
 * A portal is PHP, so form keys follow PHP's `parse_str` / `$_POST` rules, including the odd
 * ones, because clients (OPI among them) are tested against real portals. Choices made where
 * PHP has no JavaScript equivalent or where safety wins over fidelity:
 *
 * - PHP has only ordered maps. A map whose keys are exactly `0..n-1` in insertion order becomes
 *   a JS array; any other map becomes a plain object (whose integer-like keys JS enumerates in
 *   ascending order, so PHP's insertion order of such keys is lost). The top level is always
 *   an object.
 * - A key segment named `prototype` or like any member of `Object.prototype` (`__proto__`,
 *   `constructor`, `toString`, `valueOf`, `hasOwnProperty`…), at any level, drops the whole
 *   variable (form fields and multipart) or that member (JSON). PHP would keep them; no
 *   Bitrix24 method uses such a name, and dropping them keeps the result safe even for
 *   careless merging code downstream, and for `String(value)`, which throws on an object whose
 *   own `toString` is not a function.
 * - More than {@link MAX_NESTING} bracket levels drops the variable, as PHP's
 *   `max_input_nesting_level` does (PHP also deletes an earlier variable of the same name;
 *   that quirk is not copied). JSON nested deeper than that is rejected with a 400 instead,
 *   since a JSON document cannot be partly kept.
 * - Variables after the first {@link MAX_PARAMS} are ignored, as PHP does past
 *   `max_input_vars` (its default is 1000; ours is higher so real batches never hit it).
 * - An unclosed `[` follows PHP 8: in the first bracket it becomes `_` and spaces, dots and
 *   further `[` after it become `_` too (`a[b.c` is `a_b_c`); in a later bracket the unclosed
 *   tail is ignored (`a[b][c` is `a[b]`). Text after a `]` that is not `[` is ignored
 *   (`a[b]c` is `a[b]`). Spaces and dots in the name before the first `[` become `_`, leading
 *   spaces are dropped, a key is cut at a NUL byte, and `[ ]` appends like `[]`.
 */

import { RestError } from '../errors.js';

/** Request parameters as Bitrix24 (PHP) sees them: nested objects/arrays of strings, or JSON values. */
export type Params = Record<string, unknown>;

/**
 * A file part of a multipart body, stored at the part's key. The content is base64 so that the
 * params stay plain JSON-serialisable data.
 */
export interface UploadedFile {
  /** The `filename` (or RFC 5987 `filename*`) the client sent, kept as sent. */
  name: string;
  /** The part's Content-Type, `application/octet-stream` when the part has none. */
  type: string;
  /** Length of the content in bytes. */
  size: number;
  /** The content, base64-encoded. */
  content: string;
}

/** Deepest bracket nesting kept in a form key, and deepest container nesting below a JSON body's top object. */
export const MAX_NESTING = 64;

/** Number of form variables (pairs or multipart parts) read from one request; the rest are ignored. */
export const MAX_PARAMS = 10_000;

/** Longest multipart boundary accepted; RFC 2046 allows 70, leave room for sloppy clients. */
const MAX_BOUNDARY_LENGTH = 200;

const FORBIDDEN_KEYS: ReadonlySet<string> = new Set([
  'prototype',
  ...Object.getOwnPropertyNames(Object.prototype),
]);

/** PHP's canonical integer keys; only these move an array's next append index. */
const INTEGER_KEY = /^(?:0|[1-9][0-9]*)$/;

/**
 * A PHP array under construction. A Map rather than an object, so no key can reach a
 * prototype while the input is still untrusted.
 */
class PhpArray {
  readonly entries = new Map<string, Node>();
  /** PHP's `nNextFreeElement`: where `[]` appends. */
  next = 0;

  set(key: string, value: Node): void {
    this.entries.set(key, value);
    if (INTEGER_KEY.test(key)) {
      const index = Number(key);
      if (index < Number.MAX_SAFE_INTEGER && index >= this.next) this.next = index + 1;
    }
  }

  append(value: Node): void {
    if (this.next > Number.MAX_SAFE_INTEGER) return;
    this.set(String(this.next), value);
  }
}

type Node = string | UploadedFile | PhpArray;

/** A parsed key: the variable name, then one entry per bracket, `null` meaning append. */
type KeyPath = [string, ...(string | null)[]];

function malformed(what: string, reason: string): RestError {
  return new RestError('ERROR_ARGUMENT', `Malformed ${what}: ${reason}`, 400);
}

function isSpace(code: number | undefined): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}

function mangleName(name: string, alsoBracket: boolean): string {
  return name.replace(alsoBracket ? /[ .[]/g : /[ .]/g, '_');
}

/** Splits a decoded key into its PHP path, or undefined when PHP would drop the variable. */
function parseKey(rawKey: string): KeyPath | undefined {
  const nul = rawKey.indexOf('\0');
  const key = nul >= 0 ? rawKey.slice(0, nul) : rawKey;
  let start = 0;
  while (key.charCodeAt(start) === 0x20) start++;
  const open = key.indexOf('[', start);
  const name = mangleName(key.slice(start, open < 0 ? key.length : open), false);
  if (name === '') return undefined;
  const path: KeyPath = [name];
  let bracket = open;
  while (bracket >= 0) {
    // PHP counts the level before looking at the bracket, so an over-deep key is dropped even
    // when its last bracket is unclosed.
    if (path.length > MAX_NESTING) return undefined;
    const segmentStart = bracket + 1;
    const probe = key.charCodeAt(segmentStart) === 0x20 ? segmentStart + 1 : segmentStart;
    let close: number;
    if (key.charCodeAt(probe) === 0x5d) {
      close = probe;
      path.push(null);
    } else {
      close = key.indexOf(']', probe);
      if (close < 0) {
        if (path.length === 1) path[0] = `${name}_${mangleName(key.slice(segmentStart), true)}`;
        break;
      }
      path.push(key.slice(segmentStart, close));
    }
    bracket = key.charCodeAt(close + 1) === 0x5b ? close + 1 : -1;
  }
  for (const segment of path) {
    if (segment !== null && FORBIDDEN_KEYS.has(segment)) return undefined;
  }
  return path;
}

function assign(root: PhpArray, path: KeyPath, value: string | UploadedFile): void {
  let node = root;
  const last = path.length - 1;
  for (let i = 0; i < last; i++) {
    const segment = path[i] ?? null;
    if (segment === null) {
      const child = new PhpArray();
      node.append(child);
      node = child;
      continue;
    }
    const existing = node.entries.get(segment);
    if (existing instanceof PhpArray) {
      node = existing;
    } else {
      // PHP replaces a scalar with an array when a later key nests below it.
      const child = new PhpArray();
      node.set(segment, child);
      node = child;
    }
  }
  const leaf = path[last] ?? null;
  if (leaf === null) node.append(value);
  else node.set(leaf, value);
}

/** Recursion here is bounded by MAX_NESTING, which parseKey enforces. */
function toValue(node: Node): unknown {
  if (typeof node === 'string') return node;
  if (!(node instanceof PhpArray)) return { ...node };
  let index = 0;
  let isList = true;
  for (const key of node.entries.keys()) {
    if (key !== String(index++)) {
      isList = false;
      break;
    }
  }
  if (isList) return Array.from(node.entries.values(), toValue);
  return toObject(node);
}

function toObject(node: PhpArray): Params {
  const out: Params = {};
  // Assignment is safe: parseKey never lets `__proto__` and friends into a PhpArray.
  for (const [key, value] of node.entries) out[key] = toValue(value);
  return out;
}

function hexValue(code: number | undefined): number {
  if (code === undefined) return -1;
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

/**
 * PHP's `urldecode` over bytes, so `%C3%A9` and raw UTF-8 both end up as one character;
 * a `%` not followed by two hex digits stays literal.
 */
function urlDecode(bytes: Buffer, start: number, end: number, plusIsSpace: boolean): string {
  let needsWork = false;
  for (let i = start; i < end; i++) {
    const code = bytes[i];
    if (code === 0x25 || (plusIsSpace && code === 0x2b)) {
      needsWork = true;
      break;
    }
  }
  if (!needsWork) return bytes.toString('utf8', start, end);
  const out = Buffer.allocUnsafe(end - start);
  let length = 0;
  for (let i = start; i < end; i++) {
    const code = bytes[i] ?? 0;
    if (code === 0x2b && plusIsSpace) {
      out[length++] = 0x20;
    } else if (code === 0x25) {
      const high = hexValue(i + 1 < end ? bytes[i + 1] : undefined);
      const low = hexValue(i + 2 < end ? bytes[i + 2] : undefined);
      if (high >= 0 && low >= 0) {
        out[length++] = high * 16 + low;
        i += 2;
      } else {
        out[length++] = code;
      }
    } else {
      out[length++] = code;
    }
  }
  return out.toString('utf8', 0, length);
}

function parseFormBytes(bytes: Buffer): Params {
  const root = new PhpArray();
  let count = 0;
  let start = 0;
  while (start <= bytes.length && count < MAX_PARAMS) {
    let end = bytes.indexOf(0x26, start);
    if (end < 0) end = bytes.length;
    if (end > start) {
      // Searching a view keeps a body of many `=`-less pairs linear.
      const offset = bytes.subarray(start, end).indexOf(0x3d);
      const equals = offset < 0 ? end : start + offset;
      const key = urlDecode(bytes, start, equals, true);
      const value = equals < end ? urlDecode(bytes, equals + 1, end, true) : '';
      const path = parseKey(key);
      if (path !== undefined) {
        assign(root, path, value);
        count++;
      }
    }
    start = end + 1;
  }
  return toObject(root);
}

/**
 * Parse a PHP-style query string (`a=1&b[c]=2&d[]=x&d[]=y&ATTACH[0][IMAGE][LINK]=u`) into nested
 * params, with PHP's `parse_str` rules (see the module comment for the edge cases). A leading
 * `?` is ignored so a URL's `search` can be passed as is. Never throws on odd input.
 */
export function parseQuery(query: string): Params {
  try {
    return parseFormBytes(Buffer.from(query.startsWith('?') ? query.slice(1) : query, 'utf8'));
  } catch (error) {
    // Only resource exhaustion can land here; keep the promise of throwing RestError alone.
    if (error instanceof RestError) throw error;
    throw malformed('query string', 'could not be parsed');
  }
}

/** Rejects over-deep JSON before parsing, scanning brackets outside strings without recursion. */
function checkJsonDepth(text: string): void {
  // The top-level object is the params themselves, so it does not count as a level.
  const limit = MAX_NESTING + 1;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 0x5c) i++;
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) {
      inString = true;
    } else if (code === 0x7b || code === 0x5b) {
      if (++depth > limit) throw malformed('JSON body', `nesting deeper than ${MAX_NESTING} levels`);
    } else if (code === 0x7d || code === 0x5d) {
      depth--;
    }
  }
}

/** Removes prototype-related keys from parsed JSON, iteratively so no input can exhaust the stack. */
function stripForbiddenKeys(root: object): void {
  const stack: object[] = [root];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    const record = node as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (FORBIDDEN_KEYS.has(key)) {
        Reflect.deleteProperty(record, key);
        continue;
      }
      const value = record[key];
      if (typeof value === 'object' && value !== null) stack.push(value);
    }
  }
}

function parseJson(body: Buffer): Params {
  let text = body.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') return {};
  checkJsonDepth(text);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // V8's message already truncates its quote of the input; cap it anyway.
    const reason = error instanceof Error ? error.message : 'syntax error';
    throw malformed('JSON body', reason.length > 120 ? `${reason.slice(0, 117)}...` : reason);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw malformed('JSON body', 'the top level must be an object');
  }
  stripForbiddenKeys(value);
  return value as Params;
}

/** A header value split into its leading token and its `;`-separated parameters. */
interface HeaderValue {
  value: string;
  params: Map<string, string>;
}

/** Parses `type; a=b; c="d"`; quoted strings honour backslash escapes, an unclosed quote runs to the end. */
function parseHeaderValue(header: string): HeaderValue {
  const semicolon = header.indexOf(';');
  const value = (semicolon < 0 ? header : header.slice(0, semicolon)).trim().toLowerCase();
  const params = new Map<string, string>();
  let i = semicolon < 0 ? header.length : semicolon + 1;
  while (i < header.length) {
    let nameEnd = i;
    while (nameEnd < header.length && header[nameEnd] !== '=' && header[nameEnd] !== ';') nameEnd++;
    const name = header.slice(i, nameEnd).trim().toLowerCase();
    if (header[nameEnd] !== '=') {
      i = nameEnd + 1;
      continue;
    }
    i = nameEnd + 1;
    while (header[i] === ' ' || header[i] === '\t') i++;
    let paramValue = '';
    if (header[i] === '"') {
      i++;
      while (i < header.length && header[i] !== '"') {
        if (header[i] === '\\' && i + 1 < header.length) i++;
        paramValue += header[i];
        i++;
      }
      const close = header.indexOf(';', i);
      i = close < 0 ? header.length : close + 1;
    } else {
      const close = header.indexOf(';', i);
      const valueEnd = close < 0 ? header.length : close;
      paramValue = header.slice(i, valueEnd).trim();
      i = valueEnd + 1;
    }
    if (name !== '' && !params.has(name)) params.set(name, paramValue);
  }
  return { value, params };
}

/** RFC 5987 `charset'lang'percent-encoded`; the charset is assumed to be UTF-8, as browsers send. */
function decodeExtendedValue(value: string): string | undefined {
  const first = value.indexOf("'");
  const second = first < 0 ? -1 : value.indexOf("'", first + 1);
  if (second < 0) return undefined;
  const encoded = Buffer.from(value.slice(second + 1), 'utf8');
  return urlDecode(encoded, 0, encoded.length, false);
}

/**
 * Finds the next delimiter line: `--boundary` at `from` or after a line feed, followed by `--`
 * (the close delimiter) or by optional blanks and a line break. Anything else that merely
 * starts with the boundary is content.
 */
function findDelimiter(body: Buffer, delimiter: Buffer, from: number, atStart: boolean): number {
  let index = body.indexOf(delimiter, from);
  while (index >= 0) {
    const lineStart = (atStart && index === 0) || body[index - 1] === 0x0a;
    if (lineStart) {
      let after = index + delimiter.length;
      if (body[after] === 0x2d && body[after + 1] === 0x2d) return index;
      while (body[after] === 0x20 || body[after] === 0x09) after++;
      if (body[after] === 0x0a || (body[after] === 0x0d && body[after + 1] === 0x0a)) return index;
    }
    index = body.indexOf(delimiter, index + 1);
  }
  return -1;
}

interface PartHeaders {
  disposition: HeaderValue | undefined;
  contentType: string | undefined;
}

/** Reads header lines from `start` up to the blank line; returns the headers and where content begins. */
function readPartHeaders(
  body: Buffer,
  start: number,
  delimiter: string,
): { headers: PartHeaders; contentStart: number } {
  const lines: string[] = [];
  let cursor = start;
  for (;;) {
    const lineEnd = body.indexOf(0x0a, cursor);
    if (lineEnd < 0) throw malformed('multipart body', 'unterminated part headers');
    const textEnd = lineEnd > cursor && body[lineEnd - 1] === 0x0d ? lineEnd - 1 : lineEnd;
    const line = body.toString('utf8', cursor, textEnd);
    cursor = lineEnd + 1;
    if (line === '') break;
    if (line.startsWith(delimiter)) throw malformed('multipart body', 'part headers without a blank line');
    const previous = lines.length - 1;
    // Folded continuation lines (obsolete, but harmless to accept).
    if ((line.startsWith(' ') || line.startsWith('\t')) && previous >= 0)
      lines[previous] += ` ${line.trim()}`;
    else lines.push(line);
  }
  const headers: PartHeaders = { disposition: undefined, contentType: undefined };
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-disposition' && headers.disposition === undefined) {
      headers.disposition = parseHeaderValue(value);
    } else if (name === 'content-type' && headers.contentType === undefined) {
      headers.contentType = value;
    }
  }
  return { headers, contentStart: cursor };
}

function parseMultipart(contentType: string, body: Buffer): Params {
  const boundary = parseHeaderValue(contentType).params.get('boundary');
  if (boundary === undefined || boundary === '') throw malformed('multipart body', 'no boundary');
  if (boundary.length > MAX_BOUNDARY_LENGTH) throw malformed('multipart body', 'boundary too long');
  const delimiterText = `--${boundary}`;
  const delimiter = Buffer.from(delimiterText, 'utf8');
  const root = new PhpArray();
  let count = 0;
  let index = findDelimiter(body, delimiter, 0, true);
  if (index < 0) throw malformed('multipart body', 'boundary not found');
  for (;;) {
    let cursor = index + delimiter.length;
    // The close delimiter; whatever follows is the epilogue.
    if (body[cursor] === 0x2d && body[cursor + 1] === 0x2d) break;
    if (count >= MAX_PARAMS) break;
    while (body[cursor] === 0x20 || body[cursor] === 0x09) cursor++;
    cursor += body[cursor] === 0x0d ? 2 : 1;
    const { headers, contentStart } = readPartHeaders(body, cursor, delimiterText);
    const next = findDelimiter(body, delimiter, contentStart, false);
    if (next < 0) throw malformed('multipart body', 'missing closing boundary');
    // The line break before a delimiter belongs to the delimiter, not to the content.
    let contentEnd = next - 1;
    if (contentEnd > contentStart && body[contentEnd - 1] === 0x0d) contentEnd--;
    if (contentEnd < contentStart) contentEnd = contentStart;
    const name = headers.disposition?.params.get('name');
    // PHP skips parts without a name, and so do we.
    const path = name === undefined ? undefined : parseKey(name);
    if (path !== undefined) {
      const params = headers.disposition?.params;
      const extended = params?.get('filename*');
      const filename =
        (extended === undefined ? undefined : decodeExtendedValue(extended)) ?? params?.get('filename');
      if (filename === undefined) {
        assign(root, path, body.toString('utf8', contentStart, contentEnd));
      } else {
        assign(root, path, {
          name: filename,
          type: headers.contentType || 'application/octet-stream',
          size: contentEnd - contentStart,
          content: body.toString('base64', contentStart, contentEnd),
        });
      }
      count++;
    }
    index = next;
  }
  return toObject(root);
}

function firstNonSpaceByte(body: Buffer): number | undefined {
  let i = 0;
  // A UTF-8 byte order mark is not content.
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) i = 3;
  while (i < body.length && isSpace(body[i])) i++;
  return body[i];
}

/**
 * Parse a request body by its Content-Type into params. Throws RestError on malformed input.
 *
 * - `application/x-www-form-urlencoded`: PHP form rules, as {@link parseQuery}.
 * - `application/json`, `text/json` and any `+json` type: a JSON object (anything else is a 400
 *   `ERROR_ARGUMENT`), nested at most {@link MAX_NESTING} levels below the top.
 * - `multipart/form-data`: text parts keyed like form fields; file parts become
 *   {@link UploadedFile} objects at their key.
 * - An empty body is `{}` whatever the type. A missing or unknown type with a body is read as
 *   JSON when it starts with `{` and as urlencoded otherwise, because portals accept sloppy
 *   clients and so must we.
 *
 * Media types and parameter names match case-insensitively; `charset` is ignored since
 * Bitrix24 speaks UTF-8 only. Invalid UTF-8 becomes U+FFFD.
 */
export function parseBody(contentType: string | undefined, body: Buffer): Params {
  try {
    if (body.length === 0) return {};
    // The type nearly every client sends needs no parsing (this runs on every request).
    const mediaType =
      contentType === undefined
        ? ''
        : contentType === 'application/json'
          ? contentType
          : parseHeaderValue(contentType).value;
    if (mediaType === 'application/x-www-form-urlencoded') return parseFormBytes(body);
    if (mediaType === 'application/json' || mediaType === 'text/json' || mediaType.endsWith('+json')) {
      return parseJson(body);
    }
    if (mediaType === 'multipart/form-data') return parseMultipart(contentType ?? '', body);
    return firstNonSpaceByte(body) === 0x7b ? parseJson(body) : parseFormBytes(body);
  } catch (error) {
    if (error instanceof RestError) throw error;
    // Only resource exhaustion can land here; keep the promise of throwing RestError alone.
    throw malformed('request body', 'could not be parsed');
  }
}
