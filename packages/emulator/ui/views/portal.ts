/**
 * The portal panel of the controls view: the settings `PUT /portal` takes that a developer
 * flips while testing — the portal's state (deleted, overloaded, free plan), the error table,
 * batch overflow, the MESSAGE_OUT default, the ATTACH limit, HTTPS and the modelled processing
 * time. Apply sends only what changed; a mistake is answered with the API's own message.
 */

import { api } from '../api.js';
import { button, el } from '../dom.js';
import {
  PORTAL_CHOICES,
  describePortal,
  portalChanges,
  portalForm,
  type PortalChoice,
  type PortalForm,
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
} from './form.js';

/** The portal settings panel. */
export class PortalPanel {
  readonly root: HTMLElement;
  readonly #now = el('span', 'portal-now');
  readonly #choices = new Map<PortalChoice, HTMLSelectElement>(
    PORTAL_CHOICES.map(({ key, options }) => [key, select(`portal-${key}`, options)]),
  );
  readonly #requireHttps = el('input', `${SETTING_INPUT} portal-requireHttps`);
  readonly #attachMaxLength = numberInput('portal-attachMaxLength');
  readonly #processing = numberInput('portal-processingSeconds');
  readonly #apply = button('Apply', 'primary portal-apply', () => void this.#applyForm());
  readonly #status = statusLine('portal-status');
  #current: PortalSettings | undefined;

  constructor() {
    this.#requireHttps.type = 'checkbox';
    for (const input of [this.#attachMaxLength, this.#processing]) {
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
        ...PORTAL_CHOICES.map(({ key, label }) => labelled(label, this.#choice(key))),
        labelled('ATTACH max length, characters', this.#attachMaxLength),
        labelled('Processing time per call, s (*)', this.#processing),
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
        'PUT /_emulator/api/portal. A state other than normal answers every REST call with its ' +
          'error. Processing time is charged to the operating budget; methods with a time of ' +
          'their own keep it.',
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

  #showNow(settings: PortalSettings): void {
    this.#current = settings;
    this.#now.textContent = describePortal(settings);
  }

  #show(settings: PortalSettings): void {
    this.#showNow(settings);
    const form = portalForm(settings);
    for (const { key } of PORTAL_CHOICES) this.#choice(key).value = form[key];
    this.#requireHttps.checked = form.requireHttps;
    this.#attachMaxLength.value = form.attachMaxLength;
    this.#processing.value = form.processingSeconds;
  }

  #form(): PortalForm {
    const choice = (key: PortalChoice) => this.#choice(key).value;
    return {
      state: choice('state'),
      errorTable: choice('errorTable'),
      batchOverflow: choice('batchOverflow'),
      messageOutDefault: choice('messageOutDefault'),
      requireHttps: this.#requireHttps.checked,
      attachMaxLength: this.#attachMaxLength.value,
      processingSeconds: this.#processing.value,
    };
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
