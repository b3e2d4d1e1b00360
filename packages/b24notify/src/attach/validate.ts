/**
 * Local checks of an ATTACH parameter (spec §6), so that a bad attachment fails here with the
 * path of the bad field and the fix, instead of as the portal's bare `ATTACH_ERROR`.
 *
 * The rules per block are data (the tables below), shared by `validateAttach` for attachments
 * that arrive already built and by the builders in `blocks.ts`, which name the same fields in
 * camelCase. The walk follows the documented schema only, never recursing generically, and
 * rejects every field it does not know, so nothing unchecked (a cycle, a BigInt) can reach
 * `JSON.stringify` when the size is measured.
 *
 * Stricter than the portal on purpose, where the portal would accept a value and quietly do
 * something else: a typo in a field name is dropped there, a bad DELIMITER SIZE becomes 200.
 */

import { B24ValidationError } from '../errors/validation-error.js';
import type { Attach, AttachBlockType } from './types.js';

/**
 * The portal's size limit for an attachment in the current docs: characters of its serialized
 * JSON. It is a portal setting (older docs: 30 KB), hence `maxLength`.
 */
export const ATTACH_MAX_LENGTH = 60_000;

/** Options of {@link validateAttach}. */
export interface ValidateAttachOptions {
  /**
   * The most characters `JSON.stringify` of the attachment may have: your portal's limit.
   * @default 60_000
   */
  maxLength?: number;
  /**
   * The name of the attachment in error messages, the root of every error path.
   * @default 'attach'
   */
  field?: string;
}

/** How an error path spells a wire field name: as is for wire input, camelCase for builders. */
export type FieldName = (wire: string) => string;

const wireName: FieldName = (wire) => wire;

/** `USER_ID` → `userId`, the builders' spelling of the same field. */
export const camelName: FieldName = (wire) =>
  wire.toLowerCase().replace(/_([a-z])/g, (_match, letter: string) => letter.toUpperCase());

export const COLOR_TOKENS = ['primary', 'secondary', 'alert', 'base'] as const;
export const GRID_DISPLAYS = ['BLOCK', 'LINE', 'ROW', 'TABLE'] as const;
const AVATAR_TYPES = ['USER', 'CHAT', 'BOT'] as const;
const BLOCK_TYPES: readonly AttachBlockType[] = [
  'MESSAGE',
  'LINK',
  'USER',
  'GRID',
  'IMAGE',
  'FILE',
  'DELIMITER',
];

/** What one field may hold. */
export type Rule =
  | { kind: 'text'; required?: true }
  | { kind: 'link'; required?: true }
  | { kind: 'integer'; min: 0 | 1 }
  | { kind: 'color' }
  | { kind: 'enum'; values: readonly string[]; required?: true };

type Rules = Readonly<Record<string, Rule>>;

const TEXT: Rule = { kind: 'text' };
const LINK: Rule = { kind: 'link' };
const REQUIRED_LINK: Rule = { kind: 'link', required: true };
const COUNT: Rule = { kind: 'integer', min: 0 };
const COLOR: Rule = { kind: 'color' };
const COLOR_TOKEN: Rule = { kind: 'enum', values: COLOR_TOKENS };

/** The fields of each object-valued block, of GRID/IMAGE/FILE items and of the full form. */
export const FIELDS = {
  LINK: {
    LINK: REQUIRED_LINK,
    NAME: TEXT,
    DESC: TEXT,
    HTML: TEXT,
    PREVIEW: LINK,
    WIDTH: COUNT,
    HEIGHT: COUNT,
    USER_ID: COUNT,
    CHAT_ID: COUNT,
    NETWORK_ID: TEXT,
  },
  USER: {
    NAME: { kind: 'text', required: true },
    AVATAR: LINK,
    LINK: LINK,
    USER_ID: COUNT,
    CHAT_ID: COUNT,
    BOT_ID: COUNT,
    NETWORK_ID: TEXT,
    AVATAR_TYPE: { kind: 'enum', values: AVATAR_TYPES },
  },
  GRID: {
    DISPLAY: { kind: 'enum', values: GRID_DISPLAYS, required: true },
    NAME: TEXT,
    VALUE: TEXT,
    WIDTH: COUNT,
    HEIGHT: COUNT,
    COLOR_TOKEN: COLOR_TOKEN,
    COLOR: COLOR,
    LINK: LINK,
    USER_ID: COUNT,
    CHAT_ID: COUNT,
  },
  IMAGE: { LINK: REQUIRED_LINK, NAME: TEXT, PREVIEW: LINK, WIDTH: COUNT, HEIGHT: COUNT },
  FILE: { LINK: REQUIRED_LINK, NAME: TEXT, SIZE: COUNT },
  // The portal replaces a zero or bad SIZE with 200 without a word; refusing 0 surfaces that.
  DELIMITER: { SIZE: { kind: 'integer', min: 1 }, COLOR: COLOR },
  ATTACH: { ID: COUNT, COLOR_TOKEN: COLOR_TOKEN, COLOR: COLOR },
} as const satisfies Record<string, Rules>;

type Fields = Record<string, unknown>;

function fail(field: string, problem: string): never {
  throw new B24ValidationError(field, problem);
}

function isFields(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Keys that reach the wire: `JSON.stringify` drops `undefined`, so such keys are absent. */
function presentKeys(fields: Fields): string[] {
  return Object.keys(fields).filter((key) => fields[key] !== undefined);
}

// Own properties only: a key such as "constructor" must not find Object.prototype.
function own(fields: Fields, key: string): unknown {
  return Object.hasOwn(fields, key) ? fields[key] : undefined;
}

const SHOWN_CHARACTERS = 50;

/** A user value for a message: at most 50 of its characters, since it may be long or private. */
export function show(value: unknown): string {
  if (typeof value === 'string') {
    if (value.length <= SHOWN_CHARACTERS) return JSON.stringify(value);
    return `${JSON.stringify(clip(value))} (${value.length} characters)`;
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return clip(String(value));
  }
  return `a ${typeof value}`;
}

/** Text that may quote user input (a key, a parser's message), clipped like any user value. */
function clip(text: string): string {
  if (text.length <= SHOWN_CHARACTERS) return text;
  const head = text.slice(0, SHOWN_CHARACTERS);
  // Do not cut a surrogate pair in two.
  return `${/[\uD800-\uDBFF]$/.test(head) ? head.slice(0, -1) : head}…`;
}

function quoteAll(values: readonly string[]): string {
  return values.map((value) => `"${value}"`).join(', ');
}

function hasControlCharacter(text: string): boolean {
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/**
 * Absolute http(s) URLs, or paths from the portal root. Everything else (javascript:, data:,
 * mailto:, a bare host) is refused, as the portal turns these into clickable links.
 */
export function isAllowedLink(link: string): boolean {
  if (hasControlCharacter(link)) return false;
  if (link.startsWith('/')) {
    // Browsers read "//host" and "/\host" as another host, not as the portal root.
    return !link.startsWith('//') && !link.startsWith('/\\');
  }
  return /^https?:\/\//i.test(link) && URL.canParse(link);
}

const LINK_FORM = 'an absolute http(s) URL or a path starting with "/"';

function checkField(value: unknown, rule: Rule, field: string): void {
  if (value === undefined) {
    if ('required' in rule && rule.required) {
      if (rule.kind === 'link') fail(field, `is required: give ${LINK_FORM}`);
      if (rule.kind === 'enum') fail(field, `is required: one of ${quoteAll(rule.values)}`);
      fail(field, 'is required: give a non-empty string');
    }
    return;
  }
  const nullHint = value === null ? ': leave the field out instead of null' : '';
  switch (rule.kind) {
    case 'text':
      if (typeof value !== 'string') fail(field, `must be a string, got ${show(value)}${nullHint}`);
      if (rule.required && value.trim() === '') fail(field, `must not be empty, got ${show(value)}`);
      return;
    case 'link':
      if (typeof value !== 'string' || !isAllowedLink(value)) {
        fail(field, `must be ${LINK_FORM}, got ${show(value)}${nullHint}`);
      }
      return;
    case 'integer':
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < rule.min) {
        const wanted = rule.min === 0 ? 'a non-negative integer' : 'a positive integer';
        const hint =
          typeof value === 'string' && /^\d+$/.test(value)
            ? ': write it as a number, without quotes'
            : nullHint;
        fail(field, `must be ${wanted}, got ${show(value)}${hint}`);
      }
      return;
    case 'color':
      if (typeof value !== 'string' || !/^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i.test(value)) {
        fail(
          field,
          `must be a hex color "#rgb" or "#rrggbb" such as "#c6c6c6", got ${show(value)}${nullHint}`,
        );
      }
      return;
    case 'enum':
      if (typeof value !== 'string' || !rule.values.includes(value)) {
        fail(field, `must be one of ${quoteAll(rule.values)}, got ${show(value)}${nullHint}`);
      }
      return;
  }
}

/**
 * Check the fields of one object (a LINK or USER block's value, a GRID/IMAGE/FILE item, a
 * DELIMITER, the full form) against its rules. `also` names keys that the caller checks itself.
 * @internal
 */
export function checkFields(
  value: unknown,
  rules: Rules,
  path: string,
  name: FieldName,
  also: readonly string[] = [],
): asserts value is Fields {
  if (!isFields(value)) fail(path, `must be an object, got ${show(value)}`);
  for (const key of presentKeys(value)) {
    if (Object.hasOwn(rules, key) || also.includes(key)) continue;
    const known = [...Object.keys(rules), ...also];
    const upper = key.toUpperCase();
    const fix = known.includes(upper)
      ? `field names are UPPERCASE: use ${upper}`
      : `remove it; the fields here are ${known.join(', ')}`;
    fail(`${path}.${clip(key)}`, `is not a known field: ${fix}`);
  }
  for (const [key, rule] of Object.entries(rules)) checkField(own(value, key), rule, `${path}.${name(key)}`);
}

/** MESSAGE: text that shows something. @internal */
export function checkMessage(value: unknown, path: string): void {
  if (typeof value !== 'string') fail(path, `must be a string (text with BB codes), got ${show(value)}`);
  // The portal refuses a message block that would render nothing.
  if (value.trim() === '') fail(path, 'must not be empty: give the text to show');
}

/**
 * GRID: a non-empty array of items, each with its DISPLAY. `path` is the array's path;
 * items are `path[i]`.
 * @internal
 */
export function checkGrid(value: unknown, path: string, name: FieldName): void {
  if (!Array.isArray(value)) fail(path, `must be an array of items, got ${show(value)}`);
  if (value.length === 0) fail(path, 'must have at least one item');
  // Items whose DISPLAY differ are taken: grid.md only advises against mixing them (a warning
  // note, no error), and constructor.md's own example mixes them (both doc repositories,
  // api-reference/chat-bots/chat-bots-v2/imbot.v2/messages/attachments/). The grid() builder
  // still gives one display to a whole grid, as the advice asks.
  value.forEach((item: unknown, index) => checkFields(item, FIELDS.GRID, `${path}[${index}]`, name));
}

/**
 * IMAGE and FILE: one item object, or a non-empty array of them (items are `path[i]`).
 * @internal
 */
export function checkItems(value: unknown, rules: Rules, path: string, name: FieldName): void {
  if (Array.isArray(value)) {
    if (value.length === 0) fail(path, 'must have at least one item');
    value.forEach((item: unknown, index) => checkFields(item, rules, `${path}[${index}]`, name));
    return;
  }
  if (!isFields(value)) fail(path, `must be an object or an array of objects, got ${show(value)}`);
  checkFields(value, rules, path, name);
}

function isBlockType(key: string | undefined): key is AttachBlockType {
  return BLOCK_TYPES.some((type) => type === key);
}

function checkBlock(value: unknown, path: string): void {
  const types = BLOCK_TYPES.join(', ');
  if (!isFields(value)) fail(path, `must be a block, an object with one key (${types}), got ${show(value)}`);
  const keys = presentKeys(value);
  const [type] = keys;
  if (type === undefined) fail(path, `is an empty object: a block has one key, one of ${types}`);
  if (keys.length > 1) {
    const shown = keys.slice(0, 3).map(clip).join(', ') + (keys.length > 3 ? ', …' : '');
    fail(path, `has ${keys.length} keys (${shown}) but a block has exactly one: put each in its own block`);
  }
  const inner = `${path}.${clip(type)}`;
  if (!isBlockType(type)) {
    const upper = type.toUpperCase();
    fail(
      inner,
      isBlockType(upper)
        ? `block types are UPPERCASE: use ${upper}`
        : `is not a known block type: use one of ${types}`,
    );
  }
  const content = value[type];
  switch (type) {
    case 'MESSAGE':
      return checkMessage(content, inner);
    case 'GRID':
      return checkGrid(content, inner, wireName);
    case 'IMAGE':
    case 'FILE':
      return checkItems(content, FIELDS[type], inner, wireName);
    case 'LINK':
    case 'USER':
    case 'DELIMITER':
      return checkFields(content, FIELDS[type], inner, wireName);
  }
}

function checkBlocks(value: unknown, path: string): void {
  if (!Array.isArray(value)) fail(path, `must be an array of blocks, got ${show(value)}`);
  if (value.length === 0) fail(path, 'has no blocks: add at least one, or leave the attachment out');
  value.forEach((block: unknown, index) => checkBlock(block, `${path}[${index}]`));
}

/**
 * The structure of a whole attachment, short or full form; no size check.
 * @internal
 */
export function checkAttach(value: unknown, field: string): asserts value is Attach {
  if (Array.isArray(value)) return checkBlocks(value, field);
  if (!isFields(value)) {
    const twice =
      typeof value === 'string' ? ' (a JSON string holding a JSON string: it was encoded twice)' : '';
    fail(field, `must be an array of blocks or an object with BLOCKS, got ${show(value)}${twice}`);
  }
  if (own(value, 'BLOCKS') === undefined) {
    const [key, ...rest] = presentKeys(value);
    // The commonest slip: one block passed where the list of blocks is expected.
    if (rest.length === 0 && isBlockType(key)) {
      fail(field, `is a single ${key} block: wrap it in an array, [{"${key}": ...}]`);
    }
    fail(`${field}.BLOCKS`, 'is required in the full form {"BLOCKS": [...], "ID", "COLOR_TOKEN", "COLOR"}');
  }
  checkFields(value, FIELDS.ATTACH, field, wireName, ['BLOCKS']);
  checkBlocks(value['BLOCKS'], `${field}.BLOCKS`);
}

function parseJson(text: string, field: string): unknown {
  if (text.trim() === '')
    fail(field, 'is an empty string: give an array of blocks, or leave the attachment out');
  try {
    return JSON.parse(text);
  } catch (error) {
    // The parser's message quotes the input: clip it like any user value.
    const reason = clip(error instanceof Error ? error.message : String(error));
    return fail(field, `is not valid JSON (${reason}): give an array of blocks or its JSON text`);
  }
}

/**
 * Check an attachment that arrives already built, as plain objects or as JSON text, before it
 * is sent: each block is an object with exactly one known key, required fields are present,
 * links are absolute http(s) URLs or paths from the portal root, colours are `#rgb`/`#rrggbb`,
 * numbers are non-negative integers, every GRID item has a DISPLAY, and the serialized JSON fits
 * `maxLength`.
 *
 * @param value The ATTACH value: an array of blocks, an object `{ ID, COLOR_TOKEN, COLOR, BLOCKS }`,
 * or the JSON text of either.
 * @returns The attachment (parsed, when JSON text was given); objects are returned as given.
 * @throws {B24ValidationError} naming the path of the bad field (e.g. `attach[2].GRID[0].DISPLAY`
 * or `attach.BLOCKS[0].IMAGE[1].LINK`) and the fix.
 *
 * @example
 * ```ts
 * const attach = validateAttach(process.env.ATTACH_JSON ?? '[]', { maxLength: 30_000 });
 * ```
 */
export function validateAttach(value: unknown, options: ValidateAttachOptions = {}): Attach {
  const field = options.field ?? 'attach';
  const maxLength = options.maxLength ?? ATTACH_MAX_LENGTH;
  if (!Number.isSafeInteger(maxLength) || maxLength < 1) {
    fail('maxLength', `must be a positive integer (characters), got ${show(maxLength)}`);
  }
  const attach = typeof value === 'string' ? parseJson(value, field) : value;
  checkAttach(attach, field);
  // Measured on the value, not the text given: the client re-serializes it, so the caller's
  // whitespace never reaches the portal.
  const length = JSON.stringify(attach).length;
  if (length > maxLength) {
    fail(
      field,
      `is ${length} characters as JSON, over the limit of ${maxLength}: shorten the texts, link to the ` +
        'details instead, or split them across notifications (if your portal allows more, raise maxLength)',
    );
  }
  return attach;
}
