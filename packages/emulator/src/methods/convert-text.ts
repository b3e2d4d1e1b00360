/**
 * `CONVERT_TEXT=Y` of im.notify.get and im.notify.history.search: "convert the notification
 * text" (`api-reference/chats/notifications/im-notify-get.md`, both repositories). The docs do
 * not say into what; the portal's web client shows notification text as HTML, so the emulator
 * chooses HTML: special characters escaped, line breaks and `[BR]` as `<br />`, the inline
 * BB codes of `api-reference/chats/messages/formatting.md` (`B`, `I`, `U`, `S`, `URL`) as tags.
 * Mention and action codes (`USER`, `CHAT`, `SEND`, `PUT`, `CALL`) stay as written. A client
 * that shows the converted text as plain text, or stores it, sees markup it did not send.
 */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

const INLINE: readonly [RegExp, string][] = [
  [/\[b\]([\s\S]*?)\[\/b\]/gi, '<b>$1</b>'],
  [/\[i\]([\s\S]*?)\[\/i\]/gi, '<i>$1</i>'],
  [/\[u\]([\s\S]*?)\[\/u\]/gi, '<u>$1</u>'],
  [/\[s\]([\s\S]*?)\[\/s\]/gi, '<del>$1</del>'],
];

/** A link target the portal would make clickable: absolute http(s) or relative to the portal. */
function safeHref(href: string): string | undefined {
  return /^(https?:\/\/|\/)/i.test(href) ? href : undefined;
}

/** Notification text as `CONVERT_TEXT=Y` answers it. */
export function convertText(text: string): string {
  let html = text.replace(/[&<>"]/g, (c) => ESCAPES[c] as string);
  for (const [pattern, replacement] of INLINE) html = html.replace(pattern, replacement);
  html = html.replace(/\[url=([^\]]+)\]([\s\S]*?)\[\/url\]/gi, (whole, href: string, label: string) => {
    const target = safeHref(href);
    return target ? `<a href="${target}" target="_blank">${label}</a>` : whole;
  });
  html = html.replace(/\[url\]([^[]+)\[\/url\]/gi, (whole, href: string) => {
    const target = safeHref(href);
    return target ? `<a href="${target}" target="_blank">${href}</a>` : whole;
  });
  return html.replace(/\[br\]|\r?\n/gi, '<br />');
}
