/**
 * A logged request as the page shows it: what was called and how it ended (status, error,
 * injected fault, time taken), the masked parameters and the answer, as JSON text.
 */

import type { RequestEntry } from '../api.js';
import { el } from '../dom.js';
import { formatDateTime } from '../format.js';
import { text } from './safe.js';

/** A JSON view is cut here: a 60 000-character ATTACH is readable, a runaway body is not. */
const MAX_JSON_CHARS = 200_000;

/** A value as indented JSON in a `<pre>`, as text. */
export function jsonBlock(value: unknown, className = 'json'): HTMLPreElement {
  let shown: string;
  try {
    shown = JSON.stringify(value, null, 2) ?? 'undefined';
  } catch {
    shown = String(value);
  }
  if (shown.length > MAX_JSON_CHARS)
    shown = `${shown.slice(0, MAX_JSON_CHARS)}\n… (cut at ${MAX_JSON_CHARS} characters)`;
  return el('pre', className, shown);
}

/** How a status reads at a glance: 2xx ok, a dropped connection, 4xx or 5xx. */
export function statusClass(status: number): string {
  if (status === 0) return 'status-dropped';
  if (status < 300) return 'status-ok';
  if (status < 500) return 'status-client';
  return 'status-server';
}

/** One line: id, HTTP method and masked path, status, error, fault, time taken, when. */
export function requestSummary(entry: RequestEntry): HTMLElement {
  const status = Number(entry.status);
  return el(
    'div',
    'request-summary',
    el('span', 'request-id', `#${Number(entry.id)}`),
    ' ',
    el('span', 'request-path', `${text(entry.httpMethod) ?? ''} ${text(entry.path) ?? ''}`),
    ' → ',
    el('span', `request-status ${statusClass(status)}`, status === 0 ? 'no answer' : String(status)),
    entry.error ? el('span', 'request-error', ` ${text(entry.error) ?? ''}`) : null,
    entry.fault ? el('span', 'request-fault', ` fault: ${text(entry.fault) ?? ''}`) : null,
    el('span', 'request-duration', ` in ${Number(entry.durationMs).toFixed(1)} ms`),
    el('span', 'request-at', ` at ${formatDateTime(Number(entry.at))}`),
  );
}

/** The request (masked parameters) and its answer. */
export function requestDetail(entry: RequestEntry): HTMLElement {
  return el(
    'div',
    'request-detail',
    requestSummary(entry),
    el('h4', null, 'Parameters (secrets masked)'),
    jsonBlock(entry.params, 'json request-params'),
    el('h4', null, 'Answer'),
    'response' in entry
      ? jsonBlock(entry.response, 'json request-response')
      : el('p', 'muted', 'No answer: the connection was dropped.'),
  );
}
