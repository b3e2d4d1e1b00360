/**
 * The limits panel of the controls view: the portal's limits as `GET /limits` gives them, and a
 * plan preset with single numbers and the operating buckets' alignment overridden to change
 * them (`PUT /limits`, which starts the counters afresh). A mistake is answered with the API's own message and changes nothing.
 */

import { api } from '../api.js';
import { button, el } from '../dom.js';
import {
  ALIGNMENTS,
  ALIGNMENT_FIELD,
  LIMIT_FIELDS,
  PLANS,
  describeIntensity,
  describeOperating,
  describePlan,
  formFromLimits,
  limitsRequest,
  placeholderFor,
  planLabel,
  type BucketAlignment,
  type LimitField,
  type LimitSettings,
  type LimitsForm,
  type PlanPreset,
} from '../limits-form.js';
import { errorMessage, labelled, numberInput, select, showStatus, statusLine } from './form.js';

/** The limits panel. */
export class LimitsPanel {
  readonly root: HTMLElement;
  readonly #plan = el('dd', 'limits-plan');
  readonly #intensity = el('dd', 'limits-intensity');
  readonly #operating = el('dd', 'limits-operating');
  readonly #planSelect = select(
    'limits-plan-select',
    PLANS.map((plan) => [plan, planLabel(plan)] as const),
  );
  readonly #inputs = new Map<LimitField, HTMLInputElement>(
    LIMIT_FIELDS.map(({ field }) => [field, numberInput(`limit-${field}`)]),
  );
  readonly #alignment = select('limits-alignment', ALIGNMENTS);
  readonly #apply = button('Apply', 'primary limits-apply', () => void this.#applyForm());
  readonly #status = statusLine('limits-status');
  /** The plan last applied from this page: the portal keeps no plan name, only the numbers. */
  #applied: PlanPreset | undefined;

  constructor() {
    this.#planSelect.addEventListener('change', () => this.#placeholders());
    for (const input of this.#inputs.values()) {
      input.addEventListener('keydown', (event) => {
        if (event.key === 'Enter') void this.#applyForm();
      });
    }
    this.root = el(
      'section',
      'panel limits',
      el('h2', null, 'Limits'),
      el(
        'dl',
        'settings-now',
        el('dt', null, 'Plan'),
        this.#plan,
        el('dt', null, 'Intensity'),
        this.#intensity,
        el('dt', null, 'Operating time'),
        this.#operating,
      ),
      el(
        'div',
        'settings-form',
        labelled('Plan preset', this.#planSelect),
        ...LIMIT_FIELDS.map(({ field, label, hint }) => labelled(label, this.#input(field), hint)),
        labelled(ALIGNMENT_FIELD.label, this.#alignment, ALIGNMENT_FIELD.hint),
      ),
      el(
        'p',
        'muted hint',
        "PUT /_emulator/api/limits. An empty field keeps the plan's number; with plan off, a number " +
          'turns its limit on (the other numbers from standard). Apply starts the counters afresh.',
      ),
      el('div', 'row', this.#apply),
      this.#status,
    );
  }

  /** Show the portal's limits and fill the form with them. */
  async load(): Promise<void> {
    try {
      this.#show(await api.limits());
      showStatus(this.#status, '', 'muted');
    } catch (err) {
      showStatus(this.#status, errorMessage(err), 'error');
    }
  }

  #input(field: LimitField): HTMLInputElement {
    const input = this.#inputs.get(field);
    if (!input) throw new Error(`inbox: no input for ${field}`);
    return input;
  }

  #show(limits: LimitSettings): void {
    this.#plan.textContent = describePlan(limits, this.#applied);
    this.#intensity.textContent = describeIntensity(limits);
    this.#operating.textContent = describeOperating(limits);
    const form = formFromLimits(limits, this.#applied);
    this.#planSelect.value = form.plan;
    for (const { field } of LIMIT_FIELDS) this.#input(field).value = form.fields[field];
    this.#alignment.value = form.alignment;
    this.#placeholders();
  }

  #placeholders(): void {
    const plan = this.#planSelect.value as PlanPreset;
    for (const { field } of LIMIT_FIELDS) {
      this.#input(field).placeholder = placeholderFor(plan, field);
    }
  }

  #form(): LimitsForm {
    const fields = {} as LimitsForm['fields'];
    for (const { field } of LIMIT_FIELDS) fields[field] = this.#input(field).value;
    return {
      plan: this.#planSelect.value as PlanPreset,
      fields,
      alignment: this.#alignment.value as BucketAlignment,
    };
  }

  async #applyForm(): Promise<void> {
    const request = limitsRequest(this.#form());
    if ('error' in request) {
      showStatus(this.#status, request.error, 'error');
      return;
    }
    this.#apply.disabled = true;
    try {
      await api.setLimits(request.body);
      this.#applied = request.body.plan;
      // Show what the portal now has, read back rather than taken from the form.
      this.#show(await api.limits());
      showStatus(this.#status, 'Applied.', 'ok');
    } catch (err) {
      showStatus(this.#status, errorMessage(err), 'error');
    } finally {
      this.#apply.disabled = false;
    }
  }
}
