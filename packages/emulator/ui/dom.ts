/**
 * The one way the page makes DOM: elements by tag name, text only as text nodes. No HTML
 * string is ever parsed, so no value from a request can become markup or script; the only
 * attributes set from data are `href`/`src` (after `safeHref`) and plain-text ones
 * (`title`, `alt`), which browsers never execute.
 */

/** What `el` accepts as children: nodes, or strings that become text nodes. Nullish is skipped. */
export type Child = Node | string | null | undefined | false;

/**
 * Create an element with a class name and children.
 *
 * @example
 * ```ts
 * el('p', 'note', 'Sent by ', el('strong', null, name));
 * ```
 */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  append(node, ...children);
  return node;
}

/** Append children; strings become text nodes, never markup. */
export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
  }
}

/** Replace all children of `parent`. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

/** A button with a label and a click handler. */
export function button(
  label: string,
  className: string,
  onClick: (event: MouseEvent) => void,
): HTMLButtonElement {
  const b = el('button', className, label);
  b.type = 'button';
  b.addEventListener('click', onClick);
  return b;
}

/**
 * A link that leaves the page: opens in a new tab and gives the target neither this page
 * (`noopener`) nor its address (`no-referrer`). `href` must come from `safeHref`.
 */
export function externalLink(href: string, ...children: Child[]): HTMLAnchorElement {
  const a = el('a', 'external', ...children);
  a.href = href;
  a.target = '_blank';
  a.rel = 'noopener noreferrer nofollow';
  a.referrerPolicy = 'no-referrer';
  return a;
}

/** An image from another site: loaded without a referrer, lazily, without blocking layout. */
export function remoteImage(src: string, alt: string, className: string): HTMLImageElement {
  const img = el('img', className);
  img.referrerPolicy = 'no-referrer';
  img.loading = 'lazy';
  img.decoding = 'async';
  img.alt = alt;
  img.src = src;
  return img;
}

/** A query by selector that must succeed: the page's own skeleton is known. */
export function must<T extends Element>(root: ParentNode, selector: string): T {
  const found = root.querySelector<T>(selector);
  if (!found) throw new Error(`inbox: ${selector} is missing from the page`);
  return found;
}
