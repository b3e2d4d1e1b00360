/**
 * The request log: every REST and OAuth call with its status, error, injected fault and time,
 * newest first and live; a row opens to the masked parameters and the answer. Limit answers
 * (`QUERY_LIMIT_EXCEEDED`, `OPERATION_TIME_LIMIT`) and chaos faults show here as they happened.
 */

import { api, type RequestEntry } from '../api.js';
import { button, el } from '../dom.js';
import { formatDateTime } from '../format.js';
import { requestDetail, statusClass } from '../render/request.js';
import { text } from '../render/safe.js';

/** Rows kept on the page; the server's log is the longer memory. */
const MAX_ROWS = 500;

/** What the view needs from the page. */
export interface RequestsHost {
  report(err: unknown): void;
}

/** The request log view. */
export class RequestsView {
  readonly root = el('div', 'view requests-view');
  readonly #host: RequestsHost;
  readonly #body = el('tbody');
  readonly #method = el('input', 'filter-method');
  readonly #errors = el('input', 'filter-errors');
  readonly #empty = el('p', 'empty', 'No requests yet.');
  #generation = 0;

  constructor(host: RequestsHost) {
    this.#host = host;
    this.#method.type = 'search';
    this.#method.placeholder = 'Method, e.g. im.notify.personal.add';
    this.#method.setAttribute('aria-label', 'Filter by method');
    this.#errors.type = 'checkbox';
    let timer: ReturnType<typeof setTimeout> | undefined;
    this.#method.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(() => void this.reload(), 250);
    });
    this.#errors.addEventListener('change', () => void this.reload());
    const head = el('tr');
    for (const title of [
      '#',
      'Time',
      'Method',
      'Transport',
      'Status',
      'Error',
      'Fault',
      'ms',
      'Notifications',
    ]) {
      head.append(el('th', null, title));
    }
    this.root.append(
      el(
        'div',
        'toolbar',
        this.#method,
        el('label', 'check', this.#errors, ' Errors only'),
        button('Reload', 'reload', () => void this.reload()),
      ),
      el('table', 'request-log', el('thead', null, head), this.#body),
      this.#empty,
    );
  }

  /** Reload from the server with the current filters. */
  async reload(): Promise<void> {
    const generation = ++this.#generation;
    try {
      const { requests } = await api.requests({
        method: this.#method.value.trim() || undefined,
        errors: this.#errors.checked,
        limit: 200,
      });
      if (generation !== this.#generation) return;
      this.#body.replaceChildren(...requests.map((r) => this.#row(r)));
    } catch (err) {
      this.#host.report(err);
    }
    this.#empty.hidden = this.#body.childElementCount > 0;
  }

  /** A request was logged: show it on top if it passes the filters. */
  added(entry: RequestEntry): void {
    const method = this.#method.value.trim().toLowerCase();
    if (method && text(entry.method) !== method) return;
    if (this.#errors.checked && entry.status === 200) return;
    this.#body.prepend(this.#row(entry));
    // A row and its open detail row are two; trimming from the end keeps the newest.
    while (this.#body.childElementCount > MAX_ROWS) this.#body.lastElementChild?.remove();
    this.#empty.hidden = true;
  }

  /** The log was cleared (portal reset). */
  cleared(): void {
    this.#body.replaceChildren();
    this.#empty.hidden = false;
  }

  #row(entry: RequestEntry): HTMLTableRowElement {
    const status = Number(entry.status);
    const row = el(
      'tr',
      `request-row ${statusClass(status)}`,
      el('td', 'num', String(Number(entry.id))),
      el('td', 'time', formatDateTime(Number(entry.at))),
      el('td', 'method', text(entry.method) ?? ''),
      el('td', null, text(entry.transport) ?? ''),
      el('td', 'status', status === 0 ? 'dropped' : String(status)),
      el('td', 'error', text(entry.error) ?? ''),
      el('td', 'fault', text(entry.fault) ?? ''),
      el('td', 'num', Number(entry.durationMs).toFixed(1)),
      el(
        'td',
        'ids',
        Array.isArray(entry.notificationIds) ? entry.notificationIds.map(Number).join(', ') : '',
      ),
    );
    row.dataset.requestId = String(Number(entry.id));
    row.tabIndex = 0;
    row.title = 'Show the request and its answer';
    const toggle = (): void => {
      const next = row.nextElementSibling;
      if (next instanceof HTMLTableRowElement && next.classList.contains('request-detail-row')) {
        next.remove();
        row.setAttribute('aria-expanded', 'false');
        return;
      }
      const cell = el('td', null, requestDetail(entry));
      cell.colSpan = 9;
      row.after(el('tr', 'request-detail-row', cell));
      row.setAttribute('aria-expanded', 'true');
    };
    row.addEventListener('click', toggle);
    row.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        toggle();
      }
    });
    return row;
  }
}
