/**
 * An ATTACH as Bitrix24 draws it (spec §6): a coloured bar down the left (COLOR_TOKEN or
 * COLOR) and the blocks in order: MESSAGE, LINK, USER, GRID in its four displays, IMAGE,
 * FILE and DELIMITER.
 *
 * The input is the stored, validated attachment, but it is read as `unknown` and every field is
 * checked again here: the page must stay safe even if a stored value was never validated (an
 * edited data file, a future method). A field that fails its check is dropped, or for links
 * shown as text; nothing from the attachment is ever parsed as HTML, and styles are only set
 * through the CSSOM from checked numbers and `#hex` colours.
 */

import { el, externalLink, remoteImage, type Child } from '../dom.js';
import { fileExtension, formatSize, initials } from '../format.js';
import { renderBbCode, type RenderContext } from './bbcode.js';
import { field, list, oneOf, record, safeColor, safeHref, safeId, safePixels, text } from './safe.js';

const COLOR_TOKENS = ['primary', 'secondary', 'alert', 'base'] as const;
const GRID_DISPLAYS = ['BLOCK', 'LINE', 'ROW', 'TABLE'] as const;
type GridDisplay = (typeof GRID_DISPLAYS)[number];
const AVATAR_TYPES = ['USER', 'CHAT', 'BOT'] as const;

/** The portal caps an attachment by size; this caps what the page will build from one. */
const MAX_BLOCKS = 200;
const MAX_ITEMS = 100;
/** The width a DELIMITER gets when SIZE is missing (documented). */
const DELIMITER_DEFAULT_SIZE = 200;

type Fields = Record<string, unknown>;

/** A link as text, with a note that it was not followed: how a refused link is shown. */
function refusedLink(raw: unknown): Child {
  const shown = text(raw);
  if (shown === undefined || shown === '') return null;
  const code = el('code', 'refused-link', shown);
  code.title = 'Not an http(s) link: shown as text';
  return code;
}

/** `text` as a link when `raw` is a safe one, else as plain text followed by the refused link. */
function linkOrText(raw: unknown, label: string, className: string, ctx: RenderContext): Child[] {
  const href = safeHref(raw, ctx.origin);
  if (href) {
    const a = externalLink(href, label);
    a.classList.add(className);
    return [a];
  }
  return [el('span', className, label), raw === undefined ? null : refusedLink(raw)];
}

/** USER_ID, CHAT_ID, BOT_ID and NETWORK_ID: shown as a quiet line, since here they open nothing. */
function idLine(f: Fields, extra: string[] = []): Child {
  const parts = [...extra];
  for (const [key, label] of [
    ['USER_ID', 'user'],
    ['CHAT_ID', 'chat'],
    ['BOT_ID', 'bot'],
  ] as const) {
    const id = safeId(field(f, key));
    if (id) parts.push(`${label} ${id}`);
  }
  const network = text(field(f, 'NETWORK_ID'));
  if (network) parts.push(`network ${network}`);
  return parts.length > 0 ? el('div', 'attach-meta', parts.join(' · ')) : null;
}

function sized(node: HTMLElement, width: unknown, height: unknown): void {
  const w = safePixels(width);
  const h = safePixels(height);
  if (w !== null) node.style.width = `${w}px`;
  if (h !== null) node.style.height = `${h}px`;
}

function messageBlock(value: unknown, ctx: RenderContext): HTMLElement {
  const box = el('div', 'attach-block attach-message');
  const t = text(value);
  if (t !== undefined) renderBbCode(box, t, ctx);
  return box;
}

function linkBlock(f: Fields, ctx: RenderContext): HTMLElement {
  const raw = field(f, 'LINK');
  const name = text(field(f, 'NAME')) || text(raw) || '';
  const box = el('div', 'attach-block attach-link');
  const preview = safeHref(field(f, 'PREVIEW'), ctx.origin);
  if (preview) {
    const img = remoteImage(preview, name, 'attach-link-preview');
    sized(img, field(f, 'WIDTH'), field(f, 'HEIGHT'));
    box.append(img);
  }
  const body = el('div', 'attach-link-body', ...linkOrText(raw, name, 'attach-link-name', ctx));
  // HTML replaces DESC on a portal, which renders it; here it is shown as the text that was sent.
  const html = text(field(f, 'HTML'));
  if (html) {
    const desc = el('div', 'attach-link-desc attach-link-html', html);
    desc.title = 'HTML, shown as text';
    body.append(desc);
  } else {
    const desc = text(field(f, 'DESC'));
    if (desc) body.append(el('div', 'attach-link-desc', desc));
  }
  body.append(el('div', 'attach-link-url', text(raw) ?? ''));
  const meta = idLine(f);
  if (meta) body.append(meta);
  box.append(body);
  return box;
}

function userBlock(f: Fields, ctx: RenderContext): HTMLElement {
  const name = text(field(f, 'NAME')) ?? '';
  const type = oneOf(field(f, 'AVATAR_TYPE'), AVATAR_TYPES) ?? 'USER';
  const box = el('div', `attach-block attach-user avatar-${type.toLowerCase()}`);
  const avatar = safeHref(field(f, 'AVATAR'), ctx.origin);
  box.append(avatar ? remoteImage(avatar, '', 'avatar') : el('span', 'avatar initials', initials(name)));
  const rawLink = field(f, 'LINK');
  const userId = safeId(field(f, 'USER_ID'));
  let label: Child[];
  if (rawLink !== undefined) label = linkOrText(rawLink, name, 'attach-user-name', ctx);
  else if (userId) {
    const a = el('a', 'attach-user-name', name);
    a.href = `#/inbox/${userId}`;
    label = [a];
  } else label = [el('span', 'attach-user-name', name)];
  box.append(el('div', 'attach-user-body', ...label, idLine(f, type === 'USER' ? [] : [type.toLowerCase()])));
  return box;
}

/** A GRID VALUE: BB codes, tinted by COLOR_TOKEN or COLOR, a link when LINK or USER_ID says so. */
function gridValue(item: Fields, ctx: RenderContext): HTMLElement {
  const token = oneOf(field(item, 'COLOR_TOKEN'), COLOR_TOKENS);
  const value = el('span', token ? `grid-value-text tone-${token}` : 'grid-value-text');
  const t = text(field(item, 'VALUE'));
  if (t !== undefined) renderBbCode(value, t, ctx);
  const color = safeColor(field(item, 'COLOR'));
  if (color) value.style.color = color;
  const rawLink = field(item, 'LINK');
  const href = safeHref(rawLink, ctx.origin);
  const userId = safeId(field(item, 'USER_ID'));
  if (href) return externalLink(href, value);
  if (rawLink !== undefined) return el('span', null, value, refusedLink(rawLink));
  if (userId) {
    const a = el('a', 'grid-user', value);
    a.href = `#/inbox/${userId}`;
    return a;
  }
  return value;
}

function gridBlock(value: unknown, ctx: RenderContext): HTMLElement {
  const items = list(value, MAX_ITEMS)
    .map(record)
    .filter((item): item is Fields => item !== null);
  const displayOf = (item: Fields | undefined): GridDisplay =>
    oneOf(item ? field(item, 'DISPLAY') : undefined, GRID_DISPLAYS) ?? 'BLOCK';
  // The docs advise one display per GRID (grid.md), yet their own constructor example mixes
  // them and a portal takes it: each run of items sharing a display is drawn in that display.
  const runs: Fields[][] = [];
  for (const item of items) {
    const last = runs[runs.length - 1];
    if (last && displayOf(last[0]) === displayOf(item)) last.push(item);
    else runs.push([item]);
  }
  if (runs.length <= 1) return gridRun(items, displayOf(items[0]), ctx);
  return el(
    'div',
    'attach-block attach-grid-mixed',
    ...runs.map((run) => gridRun(run, displayOf(run[0]), ctx)),
  );
}

function gridRun(items: Fields[], display: GridDisplay, ctx: RenderContext): HTMLElement {
  const kind = display.toLowerCase();
  const name = (item: Fields): string => text(field(item, 'NAME')) ?? '';
  if (display === 'ROW' || display === 'TABLE') {
    const table = el('table', `attach-block attach-grid grid-${kind}`);
    if (display === 'TABLE') {
      // A table: the names head the columns, the values make one row under them.
      const head = el('tr');
      const row = el('tr');
      for (const item of items) {
        const th = el('th', 'grid-name', name(item));
        sized(th, field(item, 'WIDTH'), undefined);
        head.append(th);
        row.append(el('td', 'grid-value', gridValue(item, ctx)));
      }
      table.append(el('thead', null, head), el('tbody', null, row));
    } else {
      // Rows: a name column of WIDTH, the value beside it.
      const body = el('tbody');
      for (const item of items) {
        const td = el('td', 'grid-name', name(item));
        sized(td, field(item, 'WIDTH'), undefined);
        body.append(el('tr', 'grid-item', td, el('td', 'grid-value', gridValue(item, ctx))));
      }
      table.append(body);
    }
    return table;
  }
  const box = el('div', `attach-block attach-grid grid-${kind}`);
  for (const item of items) {
    // grid.md (both repositories) and its pictures `_images/grid.png` and `line_grid.png`: BLOCK
    // stacks the items one under another, LINE sets them side by side as cards that wrap; in
    // both the name stands above the value and WIDTH is the item's width.
    const cell = el(
      'div',
      'grid-item',
      el('div', 'grid-name', name(item)),
      el('div', 'grid-value', gridValue(item, ctx)),
    );
    sized(cell, field(item, 'WIDTH'), field(item, 'HEIGHT'));
    box.append(cell);
  }
  return box;
}

function imageBlock(value: unknown, ctx: RenderContext): HTMLElement {
  const box = el('div', 'attach-block attach-images');
  for (const item of list(value, MAX_ITEMS)) {
    const f = record(item);
    if (!f) continue;
    const name = text(field(f, 'NAME')) ?? '';
    const href = safeHref(field(f, 'LINK'), ctx.origin);
    const src = safeHref(field(f, 'PREVIEW'), ctx.origin) ?? href;
    const figure = el('figure', 'attach-image');
    if (src) {
      const img = remoteImage(src, name, 'attach-image-img');
      sized(img, field(f, 'WIDTH'), field(f, 'HEIGHT'));
      figure.append(href ? externalLink(href, img) : img);
    }
    figure.append(el('figcaption', null, name, href ? null : refusedLink(field(f, 'LINK'))));
    box.append(figure);
  }
  return box;
}

function fileBlock(value: unknown, ctx: RenderContext): HTMLElement {
  const box = el('div', 'attach-block attach-files');
  for (const item of list(value, MAX_ITEMS)) {
    const f = record(item);
    if (!f) continue;
    const raw = field(f, 'LINK');
    const rawText = text(raw) ?? '';
    const name = text(field(f, 'NAME')) || rawText.split(/[?#]/)[0]?.split('/').pop() || 'file';
    const size = safePixels(field(f, 'SIZE'), Number.MAX_SAFE_INTEGER);
    box.append(
      el(
        'div',
        'attach-file',
        el('span', 'file-icon', fileExtension(name)),
        el(
          'div',
          'attach-file-body',
          ...linkOrText(raw, name, 'attach-file-name', ctx),
          el('div', 'attach-file-size', size === null ? '' : formatSize(size)),
        ),
      ),
    );
  }
  return box;
}

function delimiterBlock(value: unknown): HTMLElement {
  const f = record(value) ?? {};
  const hr = el('hr', 'attach-block attach-delimiter');
  hr.style.width = `${safePixels(field(f, 'SIZE'), 2000) ?? DELIMITER_DEFAULT_SIZE}px`;
  const color = safeColor(field(f, 'COLOR'));
  if (color) hr.style.backgroundColor = color;
  return hr;
}

function block(raw: unknown, ctx: RenderContext): HTMLElement {
  const b = record(raw);
  const type = b ? Object.keys(b)[0] : undefined;
  if (!b || type === undefined) return el('div', 'attach-block attach-unknown', 'Unreadable block');
  const value = field(b, type);
  switch (type) {
    case 'MESSAGE':
      return messageBlock(value, ctx);
    case 'LINK':
      return linkBlock(record(value) ?? {}, ctx);
    case 'USER':
      return userBlock(record(value) ?? {}, ctx);
    case 'GRID':
      return gridBlock(value, ctx);
    case 'IMAGE':
      return imageBlock(value, ctx);
    case 'FILE':
      return fileBlock(value, ctx);
    case 'DELIMITER':
      return delimiterBlock(value);
    default:
      return el('div', 'attach-block attach-unknown', `Unknown block ${type.slice(0, 40)}`);
  }
}

/**
 * Render a stored attachment (`{colorToken, color?, blocks}`; a bare block array is read too).
 * @returns the attachment's element, or null when there is nothing to show
 */
export function renderAttach(raw: unknown, ctx: RenderContext): HTMLElement | null {
  const head = record(raw);
  const blocks = Array.isArray(raw)
    ? raw
    : head
      ? (field(head, 'blocks') ?? field(head, 'BLOCKS'))
      : undefined;
  if (!Array.isArray(blocks) || blocks.length === 0) return null;
  const token =
    (head && oneOf(field(head, 'colorToken') ?? field(head, 'COLOR_TOKEN'), COLOR_TOKENS)) ?? 'base';
  const box = el('div', `attach attach-${token}`);
  box.dataset.colorToken = token;
  const color = head ? safeColor(field(head, 'color') ?? field(head, 'COLOR')) : null;
  if (color) box.style.borderLeftColor = color;
  for (const b of blocks.slice(0, MAX_BLOCKS)) box.append(block(b, ctx));
  return box;
}
