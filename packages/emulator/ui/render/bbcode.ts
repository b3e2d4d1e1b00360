/**
 * BB code text as Bitrix24 shows it, built as DOM nodes from the parsed tree: bold, underline,
 * italic and strike-through as elements, links only when `safeHref` accepts them, user and
 * chat mentions, and the messenger's action buttons (SEND, PUT, CALL) as inert labels, since
 * the emulator has no chat to send to or phone to call.
 */

import { el, externalLink } from '../dom.js';
import { parseBbCode, plainText, type BbNode } from './bbcode-tree.js';
import { safeHref, safeId } from './safe.js';

/** What rendering needs from the page: the portal origin (for root-relative links) and user names. */
export interface RenderContext {
  /** The page's origin, which is the portal's: relative links resolve against it. */
  origin: string;
  /** A user's display name, for `[USER=5][/USER]` with no text of its own. */
  userName(id: number): string | undefined;
}

function renderTag(node: Extract<BbNode, { kind: 'tag' }>, ctx: RenderContext): HTMLElement {
  const children = (): Node[] => node.children.map((c) => renderNode(c, ctx));
  const label = plainText(node.children);
  switch (node.tag) {
    case 'B':
      return el('strong', 'bb-b', ...children());
    case 'U':
      return el('u', 'bb-u', ...children());
    case 'I':
      return el('em', 'bb-i', ...children());
    case 'S':
      return el('s', 'bb-s', ...children());
    case 'URL': {
      // [URL]address[/URL] or [URL=address]text[/URL]; an unsafe address leaves only the text.
      const href = safeHref(node.value ?? label, ctx.origin);
      if (!href) return el('span', 'bb-url-refused', ...children());
      const a = externalLink(href, ...(node.value === null ? [href] : children()));
      a.classList.add('bb-url');
      return a;
    }
    case 'USER': {
      const id = safeId(node.value);
      if (!id) return el('span', 'bb-mention', ...children());
      // A mention opens that user's notifications here, as it opens a profile on a portal.
      const a = el('a', 'bb-mention bb-user', label || ctx.userName(Number(id)) || `user ${id}`);
      a.href = `#/inbox/${id}`;
      a.title = `User ${id}`;
      return a;
    }
    case 'CHAT': {
      const id = safeId(node.value);
      const span = el('span', 'bb-mention bb-chat', label || (id ? `chat ${id}` : ''));
      if (id) span.title = `Chat ${id}`;
      return span;
    }
    case 'SEND':
    case 'PUT': {
      const what = node.value ?? label;
      const span = el('span', `bb-action bb-${node.tag.toLowerCase()}`, label || what);
      span.title = node.tag === 'SEND' ? `Sends to the chat: ${what}` : `Puts in the message box: ${what}`;
      return span;
    }
    case 'CALL': {
      const number = node.value ?? label;
      const span = el('span', 'bb-action bb-call', label || number);
      span.title = `Calls ${number}`;
      return span;
    }
  }
}

function renderNode(node: BbNode, ctx: RenderContext): Node {
  if (node.kind === 'text') return document.createTextNode(node.text);
  if (node.kind === 'br') return el('br');
  return renderTag(node, ctx);
}

/** Render notification text with BB codes into `into` (appended). */
export function renderBbCode(into: Element, value: string, ctx: RenderContext): void {
  for (const node of parseBbCode(value)) into.appendChild(renderNode(node, ctx));
}
