/**
 * The portal panel of the controls view: every setting `PUT /portal` takes — the portal's
 * state (deleted, overloaded, free plan), the error table, batch overflow and how a batch is
 * charged, the MESSAGE_OUT default, tags without CLIENT_ID, replies to REST notifications,
 * schema keys, the ATTACH limit, the request time limit, the request log's size, the
 * authorization server, HTTPS and the modelled processing time — each with its meaning as a
 * hint. Apply sends only what changed; the API applies all of it or, refusing one value,
 * nothing, and its own message is shown.
 */

import { api } from '../api.js';
import { button, el } from '../dom.js';
import {
  AUTH_SERVER_FIELD,
  PORTAL_CHOICES,
  PORTAL_NUMBERS,
  PROCESSING_FIELD,
  describePortal,
  portalChanges,
  portalForm,
  type PortalChoice,
  type PortalForm,
  type PortalNumber,
  type PortalSettings,
} from '../portal-form.js';
import {
  SETTING_INPUT,
  errorMessage,
  labelled,
  numberInput,
  select,
  showStatus,
  statusLine,
  textInput,
} from './form.js';

/** The portal settings panel. */
export class PortalPanel {
  readonly root: HTMLElement;
  readonly #now = el('span', 'portal-now');
  readonly #choices = new Map<PortalChoice, HTMLSelectElement>(
    PORTAL_CHOICES.map(({ key, options }) => [key, select(`portal-${key}`, options)]),
  );
  readonly #numbers = new Map<PortalNumber, HTMLInputElement>(
    PORTAL_NUMBERS.map(({ key }) => [key, numberInput(`portal-${key}`)]),
  );
  readonly #requireHttps = el('input', `${SETTING_INPUT} portal-requireHttps`);
  readonly #processing = numberInput('portal-processingSeconds');
  readonly #authServer = textInput('portal-authServer');
  readonly #apply = button('Apply', 'primary portal-apply', () => void this.#applyForm());
  readonly #status = statusLine('portal-status');
  #current: PortalSettings | undefined;

  constructor() {
    this.#requireHttps.type = 'checkbox';
    for (const input of [...this.#numbers.values(), this.#processing, this.#authServer]) {
      input.addEventListener('keydown', (event) => {
        if (event.key === 'Enter') void this.#applyForm();
      });
    }
    this.root = el(
      'section',
      'panel portal-settings',
      el('h2', null, 'Portal'),
      el('p', null, el('span', 'muted', 'Now: '), this.#now),
      el(
        'div',
        'settings-form',
        ...PORTAL_CHOICES.map(({ key, label, hint }) => labelled(label, this.#choice(key), hint)),
        ...PORTAL_NUMBERS.map(({ key, label, hint }) => labelled(label, this.#number(key), hint)),
        labelled(PROCESSING_FIELD.label, this.#processing, PROCESSING_FIELD.hint),
        labelled(AUTH_SERVER_FIELD.label, this.#authServer, AUTH_SERVER_FIELD.hint),
      ),
      el(
        'label',
        'check',
        this.#requireHttps,
        ' Require HTTPS (plain-http calls get INVALID_REQUEST "Https required")',
      ),
      el(
        'p',
        'muted hint',
        'PUT /_emulator/api/portal. Apply sends what changed; a value the API refuses changes ' +
          'nothing. An empty field keeps its setting. Methods with a processing time of their ' +
          'own keep it.',
      ),
      el('div', 'row', this.#apply),
      this.#status,
    );
  }

  /** Show the portal's settings and fill the form with them. */
  async load(): Promise<void> {
    try {
      this.#show(await api.portal());
      showStatus(this.#status, '', 'muted');
    } catch (err) {
      showStatus(this.#status, errorMessage(err), 'error');
    }
  }

  #choice(key: PortalChoice): HTMLSelectElement {
    const node = this.#choices.get(key);
    if (!node) throw new Error(`inbox: no select for ${key}`);
    return node;
  }

  #number(key: PortalNumber): HTMLInputElement {
    const node = this.#numbers.get(key);
    if (!node) throw new Error(`inbox: no input for ${key}`);
    return node;
  }

  #showNow(settings: PortalSettings): void {
    this.#current = settings;
    this.#now.textContent = describePortal(settings);
  }

  #show(settings: PortalSettings): void {
    this.#showNow(settings);
    const form = portalForm(settings);
    for (const { key } of PORTAL_CHOICES) this.#choice(key).value = form[key];
    for (const { key } of PORTAL_NUMBERS) this.#number(key).value = form[key];
    this.#requireHttps.checked = form.requireHttps;
    this.#processing.value = form.processingSeconds;
    this.#authServer.value = form.authServer;
  }

  #form(): PortalForm {
    const form = {
      requireHttps: this.#requireHttps.checked,
      processingSeconds: this.#processing.value,
      authServer: this.#authServer.value,
    } as PortalForm;
    for (const { key } of PORTAL_CHOICES) form[key] = this.#choice(key).value;
    for (const { key } of PORTAL_NUMBERS) form[key] = this.#number(key).value;
    return form;
  }

  async #applyForm(): Promise<void> {
    if (!this.#current) {
      await this.load();
      if (!this.#current) return;
    }
    const result = portalChanges(this.#current, this.#form());
    if ('error' in result) {
      showStatus(this.#status, result.error, 'error');
      return;
    }
    if (Object.keys(result.changes).length === 0) {
      // Read again all the same: the portal may have been changed through the API meanwhile.
      await this.load();
      showStatus(this.#status, 'Nothing to change: the form shows what the portal has.', 'muted');
      return;
    }
    this.#apply.disabled = true;
    try {
      await api.setPortal(result.changes);
      this.#show(await api.portal());
      showStatus(this.#status, 'Applied.', 'ok');
    } catch (err) {
      showStatus(this.#status, errorMessage(err), 'error');
      // The form keeps what was typed, to be corrected; the line above it shows the portal.
      await api.portal().then(
        (settings) => this.#showNow(settings),
        () => undefined,
      );
    } finally {
      this.#apply.disabled = false;
    }
  }
}
