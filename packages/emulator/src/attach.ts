/**
 * The ATTACH parameter of the im.* methods (spec §6): validation and normalization.
 *
 * The portal accepts ATTACH in many encodings (JSON body, JSON string, PHP-style form keys),
 * so the parser first reduces every encoding to one shape and only then checks the blocks.
 * It walks the input strictly along the documented schema (attach → blocks → block → items →
 * scalar fields), never generically, so hostile nesting cannot make it recurse.
 *
 * Choices where the docs are silent (each is covered by a test):
 * - Fields inside a block that the docs do not list are dropped, as the portal's PHP ignores
 *   unknown array keys; they still count towards the size limit, which measures the input.
 * - Optional fields that are `undefined`, `null` or `''` count as absent: form bodies send
 *   empty strings for fields a client left blank.
 * - Text fields accept strings and finite numbers (a JSON client may send `NAME: 123`);
 *   numbers are stored as their decimal string. Booleans, arrays and objects are rejected.
 * - Enumerated values (COLOR_TOKEN, DISPLAY, AVATAR_TYPE) are matched exactly as documented,
 *   case included, like the block type keys themselves.
 * - Integer fields must be non-negative safe integers or strings of 1 to 15 digits.
 * - An empty GRID, IMAGE or FILE list, and a full form with no blocks, are ATTACH_ERROR:
 *   only a wholly empty ATTACH is treated as absent.
 * - A MESSAGE block whose text is only whitespace is ATTACH_ERROR: it would render nothing.
 */

import { RestError } from './errors.js';

/** The documented size limit: characters of the serialized ATTACH (older docs: 30 KB). */
export const ATTACH_DEFAULT_MAX_LENGTH = 60_000;

/**
 * Cap on blocks in one attachment and on items in one GRID, IMAGE or FILE block.
 * The docs give no count limit; this only stops absurd input early. At 60,000 characters
 * the smallest block (`{"DELIMITER":{}}`, 16 characters) fits about 3,700 times, so a
 * real limit would not be lower than the size limit already makes it.
 */
export const ATTACH_DEFAULT_MAX_BLOCKS = 1000;

/** The width a DELIMITER gets when SIZE is missing or incorrect (documented). */
export const DELIMITER_DEFAULT_SIZE = 200;

/** The colour schemes an attachment or a GRID value may use. */
export type AttachColorToken = 'primary' | 'secondary' | 'alert' | 'base';

/** How a GRID lays out its items; each item names its own (grid.md advises one per GRID). */
export type AttachGridDisplay = 'BLOCK' | 'LINE' | 'ROW' | 'TABLE';

/** How a USER block draws its avatar. */
export type AttachAvatarType = 'USER' | 'CHAT' | 'BOT';

/** A text block; the text may hold BB codes. */
export interface AttachMessageBlock {
  MESSAGE: string;
}

/** The fields of a LINK block. */
export interface AttachLink {
  LINK: string;
  NAME?: string;
  DESC?: string;
  /** Replaces DESC when present. */
  HTML?: string;
  PREVIEW?: string;
  WIDTH?: number;
  HEIGHT?: number;
  USER_ID?: number;
  CHAT_ID?: number;
  NETWORK_ID?: string;
}

/** A link with a title, a description and an optional preview. */
export interface AttachLinkBlock {
  LINK: AttachLink;
}

/** The fields of a USER block. */
export interface AttachUser {
  NAME: string;
  AVATAR?: string;
  LINK?: string;
  USER_ID?: number;
  CHAT_ID?: number;
  BOT_ID?: number;
  NETWORK_ID?: string;
  AVATAR_TYPE?: AttachAvatarType;
}

/** A user card. */
export interface AttachUserBlock {
  USER: AttachUser;
}

/** One name/value pair of a GRID. */
export interface AttachGridItem {
  DISPLAY: AttachGridDisplay;
  NAME?: string;
  /** May hold BB codes. */
  VALUE?: string;
  WIDTH?: number;
  HEIGHT?: number;
  COLOR_TOKEN?: AttachColorToken;
  COLOR?: string;
  LINK?: string;
  USER_ID?: number;
  CHAT_ID?: number;
}

/** A table of name/value pairs. */
export interface AttachGridBlock {
  GRID: AttachGridItem[];
}

/** One image of an IMAGE block. */
export interface AttachImage {
  LINK: string;
  NAME?: string;
  PREVIEW?: string;
  WIDTH?: number;
  HEIGHT?: number;
}

/** One or more images; a single object on input is normalized to a list. */
export interface AttachImageBlock {
  IMAGE: AttachImage[];
}

/** One file of a FILE block. */
export interface AttachFile {
  LINK: string;
  NAME?: string;
  /** Bytes. */
  SIZE?: number;
}

/** One or more files; a single object on input is normalized to a list. */
export interface AttachFileBlock {
  FILE: AttachFile[];
}

/** The fields of a DELIMITER block. */
export interface AttachDelimiter {
  /** Pixels; {@link DELIMITER_DEFAULT_SIZE} when missing or incorrect. */
  SIZE: number;
  COLOR?: string;
}

/** A horizontal separator. */
export interface AttachDelimiterBlock {
  DELIMITER: AttachDelimiter;
}

/** One block of an attachment: an object whose only key is the block type. */
export type AttachBlock =
  | AttachMessageBlock
  | AttachLinkBlock
  | AttachUserBlock
  | AttachGridBlock
  | AttachImageBlock
  | AttachFileBlock
  | AttachDelimiterBlock;

/** A validated, normalized attachment as the portal stores it. */
export interface Attach {
  id?: string | number;
  colorToken: AttachColorToken;
  color?: string;
  blocks: AttachBlock[];
}

/** Options of {@link parseAttach}. */
export interface AttachOptions {
  /** The size limit: characters of the serialized JSON. Default 60_000 (older docs: 30 KB). */
  maxLength?: number;
  /** Cap on blocks, and on items of one GRID/IMAGE/FILE block. Default {@link ATTACH_DEFAULT_MAX_BLOCKS}. */
  maxBlocks?: number;
  /**
   * Refuse a GRID whose items differ in DISPLAY (grid.md's advice made a rule). Default false:
   * constructor.md's own example mixes them.
   */
  oneGridDisplay?: boolean;
}

type Obj = Record<string, unknown>;

const COLOR_TOKENS: readonly AttachColorToken[] = ['primary', 'secondary', 'alert', 'base'];
const GRID_DISPLAYS: readonly AttachGridDisplay[] = ['BLOCK', 'LINE', 'ROW', 'TABLE'];
const AVATAR_TYPES: readonly AttachAvatarType[] = ['USER', 'CHAT', 'BOT'];

// Nine digits at most keeps every key a JS array index, which objects enumerate in numeric order.
const INDEX_KEY = /^(?:0|[1-9]\d{0,8})$/;
const HEX_COLOR = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i;
const DIGITS = /^\d{1,15}$/;
// eslint-disable-next-line no-control-regex -- control characters are exactly what must be refused
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

function attachError(): RestError {
  return new RestError('ATTACH_ERROR', 'Incorrect attach params', 400);
}

function fail(): never {
  throw attachError();
}

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Own properties only: a key such as "constructor" must not reach Object.prototype.
function own(obj: Obj, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

function isBlank(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

function set<T, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}

/**
 * A list as JSON sends it (an array) or as a PHP form decoder delivers it (an object keyed
 * "0", "1", ...). Undefined when the value is neither; `{}` is an empty list because PHP
 * cannot tell `{}` from `[]`.
 */
function asList(value: unknown, max: number): unknown[] | undefined {
  if (Array.isArray(value)) {
    if (value.length > max) fail();
    return value;
  }
  if (!isObject(value)) return undefined;
  const keys = Object.keys(value);
  if (!keys.every((key) => INDEX_KEY.test(key))) return undefined;
  if (keys.length > max) fail();
  // Form keys need not be contiguous (ATTACH[3][...]); the portal keeps their order.
  keys.sort((a, b) => Number(a) - Number(b));
  return keys.map((key) => value[key]);
}

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

function optText(obj: Obj, key: string): string | undefined {
  const value = own(obj, key);
  if (isBlank(value)) return undefined;
  return text(value) ?? fail();
}

function reqText(obj: Obj, key: string): string {
  return optText(obj, key) ?? fail();
}

function toInt(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value === 'string' && DIGITS.test(value)) return Number(value);
  return undefined;
}

function optInt(obj: Obj, key: string): number | undefined {
  const value = own(obj, key);
  if (isBlank(value)) return undefined;
  return toInt(value) ?? fail();
}

function isAllowedLink(link: string): boolean {
  if (CONTROL_CHARS.test(link)) return false;
  if (link.startsWith('/')) {
    // "//host" and "/\host" are read by browsers as another host, not the portal root.
    return !link.startsWith('//') && !link.startsWith('/\\');
  }
  if (!/^https?:\/\//i.test(link)) return false;
  return URL.canParse(link);
}

function optLink(obj: Obj, key: string): string | undefined {
  const link = optText(obj, key);
  if (link !== undefined && !isAllowedLink(link)) fail();
  return link;
}

function reqLink(obj: Obj, key: string): string {
  return optLink(obj, key) ?? fail();
}

function optColor(obj: Obj, key: string): string | undefined {
  const value = own(obj, key);
  if (isBlank(value)) return undefined;
  if (typeof value !== 'string' || !HEX_COLOR.test(value)) fail();
  return value;
}

function optEnum<T extends string>(obj: Obj, key: string, allowed: readonly T[]): T | undefined {
  const value = own(obj, key);
  if (isBlank(value)) return undefined;
  const found = allowed.find((candidate) => candidate === value);
  return found ?? fail();
}

function parseLink(value: unknown): AttachLink {
  if (!isObject(value)) fail();
  const link: AttachLink = { LINK: reqLink(value, 'LINK') };
  set(link, 'NAME', optText(value, 'NAME'));
  set(link, 'DESC', optText(value, 'DESC'));
  set(link, 'HTML', optText(value, 'HTML'));
  set(link, 'PREVIEW', optLink(value, 'PREVIEW'));
  set(link, 'WIDTH', optInt(value, 'WIDTH'));
  set(link, 'HEIGHT', optInt(value, 'HEIGHT'));
  set(link, 'USER_ID', optInt(value, 'USER_ID'));
  set(link, 'CHAT_ID', optInt(value, 'CHAT_ID'));
  set(link, 'NETWORK_ID', optText(value, 'NETWORK_ID'));
  return link;
}

function parseUser(value: unknown): AttachUser {
  if (!isObject(value)) fail();
  const user: AttachUser = { NAME: reqText(value, 'NAME') };
  set(user, 'AVATAR', optLink(value, 'AVATAR'));
  set(user, 'LINK', optLink(value, 'LINK'));
  set(user, 'USER_ID', optInt(value, 'USER_ID'));
  set(user, 'CHAT_ID', optInt(value, 'CHAT_ID'));
  set(user, 'BOT_ID', optInt(value, 'BOT_ID'));
  set(user, 'NETWORK_ID', optText(value, 'NETWORK_ID'));
  set(user, 'AVATAR_TYPE', optEnum(value, 'AVATAR_TYPE', AVATAR_TYPES));
  return user;
}

function parseGrid(value: unknown, max: number, oneDisplay: boolean): AttachGridItem[] {
  const items = asList(value, max);
  if (items === undefined || items.length === 0) fail();
  let display: AttachGridDisplay | undefined;
  return items.map((raw) => {
    if (!isObject(raw)) fail();
    const itemDisplay = optEnum(raw, 'DISPLAY', GRID_DISPLAYS) ?? fail();
    if (oneDisplay && display !== undefined && itemDisplay !== display) fail();
    display = itemDisplay;
    const item: AttachGridItem = { DISPLAY: itemDisplay };
    set(item, 'NAME', optText(raw, 'NAME'));
    set(item, 'VALUE', optText(raw, 'VALUE'));
    set(item, 'WIDTH', optInt(raw, 'WIDTH'));
    set(item, 'HEIGHT', optInt(raw, 'HEIGHT'));
    set(item, 'COLOR_TOKEN', optEnum(raw, 'COLOR_TOKEN', COLOR_TOKENS));
    set(item, 'COLOR', optColor(raw, 'COLOR'));
    set(item, 'LINK', optLink(raw, 'LINK'));
    set(item, 'USER_ID', optInt(raw, 'USER_ID'));
    set(item, 'CHAT_ID', optInt(raw, 'CHAT_ID'));
    return item;
  });
}

/** IMAGE and FILE take one object or a list of them. */
function objectOrList(value: unknown, max: number): Obj[] {
  const list = asList(value, max) ?? (isObject(value) ? [value] : fail());
  if (list.length === 0) fail();
  return list.map((item) => (isObject(item) ? item : fail()));
}

function parseImages(value: unknown, max: number): AttachImage[] {
  return objectOrList(value, max).map((raw) => {
    const image: AttachImage = { LINK: reqLink(raw, 'LINK') };
    set(image, 'NAME', optText(raw, 'NAME'));
    set(image, 'PREVIEW', optLink(raw, 'PREVIEW'));
    set(image, 'WIDTH', optInt(raw, 'WIDTH'));
    set(image, 'HEIGHT', optInt(raw, 'HEIGHT'));
    return image;
  });
}

function parseFiles(value: unknown, max: number): AttachFile[] {
  return objectOrList(value, max).map((raw) => {
    const file: AttachFile = { LINK: reqLink(raw, 'LINK') };
    set(file, 'NAME', optText(raw, 'NAME'));
    set(file, 'SIZE', optInt(raw, 'SIZE'));
    return file;
  });
}

function parseDelimiter(value: unknown): AttachDelimiter {
  // An all-defaults delimiter has no fields: PHP clients json_encode it as `[]`, and a form
  // body can only send it as `DELIMITER=` (''). Both mean `{}`.
  if (value === '' || (Array.isArray(value) && value.length === 0)) value = {};
  if (!isObject(value)) fail();
  // Documented: a missing or incorrect SIZE falls back to the default instead of failing.
  const size = toInt(own(value, 'SIZE'));
  const delimiter: AttachDelimiter = { SIZE: size !== undefined && size > 0 ? size : DELIMITER_DEFAULT_SIZE };
  set(delimiter, 'COLOR', optColor(value, 'COLOR'));
  return delimiter;
}

function parseBlock(raw: unknown, max: number, oneDisplay: boolean): AttachBlock {
  if (!isObject(raw)) fail();
  const keys = Object.keys(raw);
  const [type] = keys;
  if (type === undefined || keys.length !== 1) fail();
  const value = raw[type];
  switch (type) {
    case 'MESSAGE': {
      const message = text(value);
      if (message === undefined || message.trim() === '') fail();
      return { MESSAGE: message };
    }
    case 'LINK':
      return { LINK: parseLink(value) };
    case 'USER':
      return { USER: parseUser(value) };
    case 'GRID':
      return { GRID: parseGrid(value, max, oneDisplay) };
    case 'IMAGE':
      return { IMAGE: parseImages(value, max) };
    case 'FILE':
      return { FILE: parseFiles(value, max) };
    case 'DELIMITER':
      return { DELIMITER: parseDelimiter(value) };
    default:
      return fail();
  }
}

function parseId(value: unknown): string | number | undefined {
  if (isBlank(value)) return undefined;
  // The docs type ID as an integer; a form body sends it as digits, which become that integer.
  const id = toInt(value);
  if (id !== undefined) return id;
  if (typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))) return value;
  return fail();
}

function parse(raw: unknown, options: AttachOptions): Attach | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  const maxLength = options.maxLength ?? ATTACH_DEFAULT_MAX_LENGTH;
  const maxBlocks = options.maxBlocks ?? ATTACH_DEFAULT_MAX_BLOCKS;
  const oneDisplay = options.oneGridDisplay ?? false;

  let received: unknown = raw;
  if (typeof raw === 'string') {
    try {
      received = JSON.parse(raw);
    } catch {
      fail();
    }
    // A JSON string is one more encoding of the same value: "null", "[]" and "{}" are absent too.
    if (received === null) return undefined;
  }

  const head = isObject(received) && Object.hasOwn(received, 'BLOCKS') ? received : undefined;
  const list = asList(head ? head['BLOCKS'] : received, maxBlocks);
  if (list === undefined) fail();
  if (list.length === 0) {
    if (head) fail();
    return undefined;
  }

  const attach: Attach = {
    colorToken: (head && optEnum(head, 'COLOR_TOKEN', COLOR_TOKENS)) ?? 'base',
    blocks: list.map((block) => parseBlock(block, maxBlocks, oneDisplay)),
  };
  if (head) {
    set(attach, 'id', parseId(own(head, 'ID')));
    set(attach, 'color', optColor(head, 'COLOR'));
  }

  // Measured: JSON.stringify of the attachment as received (after decoding a JSON string, so
  // the client's whitespace does not count), in UTF-16 code units, before normalization.
  // Checked after the structure, as the portal builds the attachment before sizing it.
  if (JSON.stringify(received).length > maxLength) {
    throw new RestError('ATTACH_OVERSIZE', 'You have exceeded the maximum allowable size of attach', 400);
  }
  return attach;
}

/**
 * Validate an ATTACH parameter as received from a request (already-parsed params: it may be a
 * JSON string, an array of blocks, an object `{ID, COLOR_TOKEN, COLOR, BLOCKS}`, or a
 * PHP-form-decoded structure where arrays may arrive as objects with keys "0","1",... and all
 * scalars as strings). Returns the normalized Attach, or undefined when ATTACH is absent/empty
 * (undefined, null, '', an empty array, or `{}`, which PHP cannot tell from an empty array).
 *
 * Throws `RestError('ATTACH_ERROR', 'Incorrect attach params', 400)` on a bad structure, and
 * `RestError('ATTACH_OVERSIZE', 'You have exceeded the maximum allowable size of attach', 400)`
 * when `JSON.stringify` of the received attachment is longer than `maxLength`.
 */
export function parseAttach(raw: unknown, options: AttachOptions = {}): Attach | undefined {
  try {
    return parse(raw, options);
  } catch (error) {
    // Hostile input can still break the engine itself (JSON nested past the stack limit, a
    // cycle in an in-process caller's object); callers are promised a RestError only.
    if (error instanceof RestError) throw error;
    throw attachError();
  }
}
