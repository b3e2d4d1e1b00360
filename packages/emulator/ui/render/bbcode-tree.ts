/**
 * The BB codes of Bitrix24 notification text (spec §6: USER, CHAT, SEND, PUT, CALL, BR, B, U,
 * I, S, URL) parsed into a tree. Pure: no DOM, so it is unit-tested in Node, and the renderer
 * (`bbcode.ts`) only ever turns this tree into elements and text nodes.
 *
 * Forgiving like the portal: tags are case-insensitive, a closing tag with no opening one and
 * an opening tag never closed stay as the literal text that was sent, and unknown tags
 * (`[COLOR=…]`, `[IMG]`) are text too. Nesting is capped so hostile input cannot make the
 * renderer recurse deeply.
 */

/** The tags that wrap content. */
export type BbTag = 'B' | 'U' | 'I' | 'S' | 'URL' | 'USER' | 'CHAT' | 'SEND' | 'PUT' | 'CALL';

/** One node of parsed text. */
export type BbNode =
  | { kind: 'text'; text: string }
  /** `[BR]` or a newline. */
  | { kind: 'br' }
  /** A tag with its `=value` (null when none was given) and content. */
  | { kind: 'tag'; tag: BbTag; value: string | null; children: BbNode[] };

const PAIRED: ReadonlySet<string> = new Set<BbTag>([
  'B',
  'U',
  'I',
  'S',
  'URL',
  'USER',
  'CHAT',
  'SEND',
  'PUT',
  'CALL',
]);

/** Deeper nesting than this is shown as text; real notifications nest two or three levels. */
export const MAX_BB_DEPTH = 16;

// `[TAG]`, `[TAG=value]`, `[/TAG]`; a value runs to the first `]`. `\n` is a token too.
const TOKEN = /\[(\/?)([a-z]{1,8})(?:=([^\]\n]*))?\]|\r?\n/gi;

interface Frame {
  tag: BbTag;
  value: string | null;
  /** The opening tag as sent, given back as text if the tag is never closed. */
  raw: string;
  children: BbNode[];
}

function pushText(into: BbNode[], text: string): void {
  if (text === '') return;
  const last = into[into.length - 1];
  if (last?.kind === 'text') last.text += text;
  else into.push({ kind: 'text', text });
}

function unquote(value: string | undefined): string | null {
  if (value === undefined) return null;
  const m = /^(["'])(.*)\1$/.exec(value.trim());
  return m ? (m[2] as string) : value.trim();
}

/** An unclosed frame becomes its opening tag as text followed by its content, in its parent. */
function flatten(frame: Frame, parent: BbNode[]): void {
  pushText(parent, frame.raw);
  for (const child of frame.children) {
    if (child.kind === 'text') pushText(parent, child.text);
    else parent.push(child);
  }
}

/** Parse notification text into a tree of text, line breaks and tags. */
export function parseBbCode(input: string): BbNode[] {
  const root: BbNode[] = [];
  const stack: Frame[] = [];
  const top = (): BbNode[] => stack[stack.length - 1]?.children ?? root;
  let at = 0;
  for (const m of input.matchAll(TOKEN)) {
    pushText(top(), input.slice(at, m.index));
    at = m.index + m[0].length;
    if (m[2] === undefined) {
      top().push({ kind: 'br' });
      continue;
    }
    const name = m[2].toUpperCase();
    const closing = m[1] === '/';
    if (name === 'BR' && !closing) {
      top().push({ kind: 'br' });
      continue;
    }
    if (!PAIRED.has(name)) {
      pushText(top(), m[0]);
      continue;
    }
    if (!closing) {
      if (stack.length >= MAX_BB_DEPTH) pushText(top(), m[0]);
      else stack.push({ tag: name as BbTag, value: unquote(m[3]), raw: m[0], children: [] });
      continue;
    }
    const open = stack.findLastIndex((f) => f.tag === name);
    if (open < 0) {
      pushText(top(), m[0]);
      continue;
    }
    // Tags opened inside this one and never closed are text: `[B]a[I]b[/B]` → bold "a[I]b".
    while (stack.length - 1 > open) flatten(stack.pop() as Frame, top());
    const frame = stack.pop() as Frame;
    top().push({ kind: 'tag', tag: frame.tag, value: frame.value, children: frame.children });
  }
  pushText(top(), input.slice(at));
  while (stack.length > 0) flatten(stack.pop() as Frame, top());
  return root;
}

/** The text of nodes without markup; line breaks become spaces (for `[URL]link[/URL]`, titles). */
export function plainText(nodes: readonly BbNode[]): string {
  let out = '';
  for (const node of nodes) {
    if (node.kind === 'text') out += node.text;
    else if (node.kind === 'br') out += ' ';
    else out += plainText(node.children);
  }
  return out;
}
