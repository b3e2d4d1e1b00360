/**
 * Builders of ATTACH blocks (spec §6): camelCase options in, the portal's UPPERCASE wire block
 * out. Each builder checks its own input with the rules of `validate.ts`, so a bad block throws
 * where it is built, with the builder's own field names (`image.link`, `grid.items[1].color`).
 */

import { B24ValidationError } from '../errors/validation-error.js';
import type {
  Attach,
  AttachBlock,
  AvatarType,
  ColorToken,
  DelimiterBlock,
  DelimiterFields,
  FileBlock,
  FileItem,
  GridBlock,
  GridDisplay,
  GridItem,
  ImageBlock,
  ImageItem,
  LinkBlock,
  LinkFields,
  MessageBlock,
  UserBlock,
  UserFields,
} from './types.js';
import {
  FIELDS,
  GRID_DISPLAYS,
  camelName,
  checkAttach,
  checkFields,
  checkGrid,
  checkItems,
  checkMessage,
  show,
} from './validate.js';

/** Options of {@link link}. */
export interface LinkOptions {
  /** Absolute `http(s)://` URL or a path from the portal root such as `/crm/deal/details/7/`. */
  link: string;
  /** The title; the portal shows `link` when it is missing. */
  name?: string;
  desc?: string;
  /** Shown instead of `desc` when present. */
  html?: string;
  /** Image URL. */
  preview?: string;
  /** Pixels. */
  width?: number;
  /** Pixels. */
  height?: number;
  /** Opens this user's chat in the messenger instead of following `link`. */
  userId?: number;
  /** Opens this chat in the messenger instead of following `link`. */
  chatId?: number;
  networkId?: string;
}

/** Options of {@link user}. */
export interface UserOptions {
  name: string;
  /** Image URL. */
  avatar?: string;
  /** Followed on click; for navigation inside the messenger prefer `userId`, `chatId` or `botId`. */
  link?: string;
  userId?: number;
  chatId?: number;
  botId?: number;
  networkId?: string;
  avatarType?: AvatarType;
}

/** One item of {@link grid}; its DISPLAY is the grid's. */
export interface GridItemOptions {
  /** In `ROW` it may be left out, and `value` takes the whole row. */
  name?: string;
  /** May hold BB codes. In `ROW` it may be left out, and `name` takes the whole width. */
  value?: string;
  /** Pixels. */
  width?: number;
  /** Pixels. */
  height?: number;
  colorToken?: ColorToken;
  /** `#rgb` or `#rrggbb`. */
  color?: string;
  link?: string;
  userId?: number;
  chatId?: number;
}

/** One image of {@link image}. */
export interface ImageOptions {
  /** Absolute `http(s)://` URL or a path from the portal root. */
  link: string;
  name?: string;
  /** The portal previews `link` itself when this is missing. */
  preview?: string;
  /** Pixels. */
  width?: number;
  /** Pixels. */
  height?: number;
}

/** One file of {@link file}. */
export interface FileOptions {
  /** Absolute `http(s)://` URL or a path from the portal root. */
  link: string;
  name?: string;
  /** Bytes; without it the file is shown without a correct size. */
  size?: number;
}

/** Options of {@link delimiter}. */
export interface DelimiterOptions {
  /** Width in pixels; the portal uses 200 when it is missing. */
  size?: number;
  /** `#rgb` or `#rrggbb`. */
  color?: string;
}

/** Options of {@link attach}: any of them turns the result into the full form. */
export interface AttachOptions {
  /** The attachment's identifier within the message. */
  id?: number;
  /** The portal's default is `base`. */
  colorToken?: ColorToken;
  /** `#rgb` or `#rrggbb`. */
  color?: string;
}

/**
 * The defined fields only: a wire block with `KEY: undefined` would still compare unequal to
 * the documented shape and would reach form encoders as an empty value.
 */
function defined<T extends object>(fields: T): T {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as T;
}

/** Guards plain-JavaScript callers, for whom a missing options object would be a TypeError. */
function expectObject(value: unknown, path: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new B24ValidationError(path, `must be an options object, got ${show(value)}`);
  }
}

function isList<T extends object>(value: T | readonly T[]): value is readonly T[] {
  return Array.isArray(value);
}

/** Maps one item or a list of items, checking each like the wire validator would. */
function items<O extends object, W>(input: O | readonly O[], path: string, toWire: (item: O) => W): W | W[] {
  if (isList(input)) {
    input.forEach((item, index) => expectObject(item, `${path}[${index}]`));
    return input.map(toWire);
  }
  expectObject(input, path);
  return toWire(input);
}

/**
 * A MESSAGE block: text with BB codes (USER, CHAT, SEND, PUT, CALL, BR, B, U, I, S, URL).
 *
 * @throws {B24ValidationError} `message` when the text is not a string or is blank.
 * @example
 * ```ts
 * message('Deal [B]#42[/B] is won');
 * // { MESSAGE: 'Deal [B]#42[/B] is won' }
 * ```
 */
export function message(text: string): MessageBlock {
  checkMessage(text, 'message');
  return { MESSAGE: text };
}

/**
 * A LINK block: a link with a title, a description and an optional preview image.
 *
 * @throws {B24ValidationError} e.g. `link.link` when the URL is neither absolute http(s) nor a
 * path from the portal root.
 * @example
 * ```ts
 * link({ link: '/crm/deal/details/42/', name: 'Deal #42', desc: 'Won today' });
 * // { LINK: { LINK: '/crm/deal/details/42/', NAME: 'Deal #42', DESC: 'Won today' } }
 * ```
 */
export function link(options: LinkOptions): LinkBlock {
  expectObject(options, 'link');
  const fields = defined<LinkFields>({
    LINK: options.link,
    NAME: options.name,
    DESC: options.desc,
    HTML: options.html,
    PREVIEW: options.preview,
    WIDTH: options.width,
    HEIGHT: options.height,
    USER_ID: options.userId,
    CHAT_ID: options.chatId,
    NETWORK_ID: options.networkId,
  });
  checkFields(fields, FIELDS.LINK, 'link', camelName);
  return { LINK: fields };
}

/**
 * A USER block: a user card with a name and an optional avatar and link.
 *
 * @throws {B24ValidationError} e.g. `user.name` when the name is missing or blank.
 * @example
 * ```ts
 * user({ name: 'Sales bot', avatar: 'https://example.com/bot.png', avatarType: 'BOT' });
 * // { USER: { NAME: 'Sales bot', AVATAR: 'https://example.com/bot.png', AVATAR_TYPE: 'BOT' } }
 * ```
 */
export function user(options: UserOptions): UserBlock {
  expectObject(options, 'user');
  const fields = defined<UserFields>({
    NAME: options.name,
    AVATAR: options.avatar,
    LINK: options.link,
    USER_ID: options.userId,
    CHAT_ID: options.chatId,
    BOT_ID: options.botId,
    NETWORK_ID: options.networkId,
    AVATAR_TYPE: options.avatarType,
  });
  checkFields(fields, FIELDS.USER, 'user', camelName);
  return { USER: fields };
}

/**
 * A GRID block: name/value pairs laid out one way. The display is given once for the whole
 * grid because the docs advise against mixing displays in one GRID (grid.md); use two grids
 * for two layouts. A hand-written GRID that mixes them is still valid (see `validateAttach`).
 *
 * @param display `BLOCK`, `LINE`, `ROW` or `TABLE` (some clients draw `TABLE` as `ROW`).
 * @throws {B24ValidationError} e.g. `grid.display`, or `grid.items[1].color` for a bad colour.
 * @example
 * ```ts
 * grid('LINE', [
 *   { name: 'Priority', value: 'High', colorToken: 'alert', width: 250 },
 *   { name: 'Category', value: 'Requests' },
 * ]);
 * // { GRID: [
 * //   { NAME: 'Priority', VALUE: 'High', DISPLAY: 'LINE', WIDTH: 250, COLOR_TOKEN: 'alert' },
 * //   { NAME: 'Category', VALUE: 'Requests', DISPLAY: 'LINE' },
 * // ] }
 * ```
 */
export function grid(display: GridDisplay, items: readonly GridItemOptions[]): GridBlock {
  if (!GRID_DISPLAYS.some((known) => known === display)) {
    throw new B24ValidationError(
      'grid.display',
      `must be one of "BLOCK", "LINE", "ROW", "TABLE", got ${show(display)}`,
    );
  }
  if (!Array.isArray(items)) {
    throw new B24ValidationError('grid.items', `must be an array of items, got ${show(items)}`);
  }
  items.forEach((item, index) => expectObject(item, `grid.items[${index}]`));
  const wire = items.map((item) =>
    defined<GridItem>({
      NAME: item.name,
      VALUE: item.value,
      DISPLAY: display,
      WIDTH: item.width,
      HEIGHT: item.height,
      COLOR_TOKEN: item.colorToken,
      COLOR: item.color,
      LINK: item.link,
      USER_ID: item.userId,
      CHAT_ID: item.chatId,
    }),
  );
  checkGrid(wire, 'grid.items', camelName);
  return { GRID: wire };
}

/**
 * An IMAGE block: one image, or several given as an array (kept as given on the wire).
 *
 * @throws {B24ValidationError} e.g. `image.link`, or `image[1].width` in a list.
 * @example
 * ```ts
 * image({ link: 'https://example.com/chart.png', name: 'Chart' });
 * // { IMAGE: { LINK: 'https://example.com/chart.png', NAME: 'Chart' } }
 * ```
 */
export function image(images: ImageOptions | readonly ImageOptions[]): ImageBlock {
  const wire = items(images, 'image', (item) =>
    defined<ImageItem>({
      LINK: item.link,
      NAME: item.name,
      PREVIEW: item.preview,
      WIDTH: item.width,
      HEIGHT: item.height,
    }),
  );
  checkItems(wire, FIELDS.IMAGE, 'image', camelName);
  return { IMAGE: wire };
}

/**
 * A FILE block: one file, or several given as an array (kept as given on the wire).
 *
 * @throws {B24ValidationError} e.g. `file.link`, or `file[0].size` for a negative size.
 * @example
 * ```ts
 * file({ link: 'https://example.com/report.pdf', name: 'report.pdf', size: 1_500_000 });
 * // { FILE: { LINK: 'https://example.com/report.pdf', NAME: 'report.pdf', SIZE: 1500000 } }
 * ```
 */
export function file(files: FileOptions | readonly FileOptions[]): FileBlock {
  const wire = items(files, 'file', (item) =>
    defined<FileItem>({ LINK: item.link, NAME: item.name, SIZE: item.size }),
  );
  checkItems(wire, FIELDS.FILE, 'file', camelName);
  return { FILE: wire };
}

/**
 * A DELIMITER block: a horizontal line, 200 pixels wide unless `size` says otherwise.
 *
 * @throws {B24ValidationError} `delimiter.size` unless a positive integer, `delimiter.color`
 * unless `#rgb`/`#rrggbb`.
 * @example
 * ```ts
 * delimiter({ size: 200, color: '#c6c6c6' });
 * // { DELIMITER: { SIZE: 200, COLOR: '#c6c6c6' } }
 * delimiter();
 * // { DELIMITER: {} }
 * ```
 */
export function delimiter(options: DelimiterOptions = {}): DelimiterBlock {
  expectObject(options, 'delimiter');
  const fields = defined<DelimiterFields>({ SIZE: options.size, COLOR: options.color });
  checkFields(fields, FIELDS.DELIMITER, 'delimiter', camelName);
  return { DELIMITER: fields };
}

/**
 * A whole attachment from blocks: the bare array (the short form) when no option is set,
 * otherwise the full form `{ ID, COLOR_TOKEN, COLOR, BLOCKS }`. The blocks are checked too, so
 * hand-written wire blocks may be mixed with built ones. The size limit is not checked here, as
 * it is a portal setting: sending checks it (see `validateAttach`).
 *
 * @throws {B24ValidationError} e.g. `attach.colorToken`, or `attach[1].IMAGE.LINK` for a bad
 * hand-written block.
 * @example
 * ```ts
 * attach([message('Deal won'), link({ link: '/crm/deal/details/42/', name: 'Deal #42' })]);
 * // [{ MESSAGE: 'Deal won' }, { LINK: { LINK: '/crm/deal/details/42/', NAME: 'Deal #42' } }]
 * attach([message('Disk almost full')], { colorToken: 'alert' });
 * // { COLOR_TOKEN: 'alert', BLOCKS: [{ MESSAGE: 'Disk almost full' }] }
 * ```
 */
export function attach(blocks: readonly AttachBlock[], options: AttachOptions = {}): Attach {
  expectObject(options, 'attach.options');
  if (!Array.isArray(blocks)) {
    throw new B24ValidationError('attach', `must be given an array of blocks, got ${show(blocks)}`);
  }
  const head = defined({ ID: options.id, COLOR_TOKEN: options.colorToken, COLOR: options.color });
  checkFields(head, FIELDS.ATTACH, 'attach', camelName);
  // A copy, so that pushing to the caller's array later cannot change a checked attachment.
  const value: Attach = Object.keys(head).length === 0 ? [...blocks] : { ...head, BLOCKS: [...blocks] };
  checkAttach(value, 'attach');
  return value;
}
