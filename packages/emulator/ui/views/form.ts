/**
 * Form parts the controls view's panels share: labelled fields, number inputs, selects, and
 * the status line under a form that says what happened (the API's own message on a mistake).
 */

import { el } from '../dom.js';

/** A status line: announced to screen readers as it changes. */
export function statusLine(className: string): HTMLParagraphElement {
  const node = el('p', className);
  node.setAttribute('role', 'status');
  return node;
}

/** Show `text` in a status line (its first class kept), coloured by kind. */
export function showStatus(node: HTMLElement, text: string, kind: 'ok' | 'error' | 'muted'): void {
  node.textContent = text;
  node.className = `${node.className.split(' ')[0]} ${kind}`;
}

/** An error as the page says it: the API's message (`ApiError`), not a stack trace. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

let hints = 0;

/**
 * A form field: the label's text above its control, the label naming the control. A `hint`
 * (what the setting means) goes under it, outside the label so the control's name stays the
 * label alone, and describes the control for assistive technology.
 */
export function labelled(label: string, control: HTMLElement, hint?: string): HTMLElement {
  const field = el('label', 'field', el('span', 'field-label', label), control);
  if (hint === undefined) return field;
  const note = el('span', 'field-hint muted', hint);
  note.id = `field-hint-${++hints}`;
  control.setAttribute('aria-describedby', note.id);
  return el('div', 'field-group', field, note);
}

/** The class every settings input carries (the hostile-input test knows the page's own inputs by it). */
export const SETTING_INPUT = 'setting-input';

/** A text input for a number (a decimal keyboard on phones; the API checks the range). */
export function numberInput(className: string): HTMLInputElement {
  const input = el('input', `${SETTING_INPUT} ${className}`);
  input.inputMode = 'decimal';
  input.autocomplete = 'off';
  input.spellcheck = false;
  return input;
}

/** A text input for a short value such as a host name (the API checks its form). */
export function textInput(className: string): HTMLInputElement {
  const input = el('input', `${SETTING_INPUT} ${className}`);
  input.autocomplete = 'off';
  input.spellcheck = false;
  return input;
}

/** A select of `[value, label]` options. */
export function select(
  className: string,
  options: readonly (readonly [string, string])[],
): HTMLSelectElement {
  const node = el('select', className);
  for (const [value, label] of options) {
    const option = el('option', null, label);
    option.value = value;
    node.append(option);
  }
  return node;
}
