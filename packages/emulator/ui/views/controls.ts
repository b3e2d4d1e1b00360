/**
 * Controls: the portal's limits and settings (each its own panel), fault injection (the
 * `/chaos` settings as JSON, with examples), the portal clock (advance it to expire tokens and
 * limit windows without waiting) and resetting the portal.
 */

import { api } from '../api.js';
import { button, el } from '../dom.js';
import { formatDateTime, formatOffset, parseDuration } from '../format.js';
import { errorMessage, showStatus, statusLine } from './form.js';
import { LimitsPanel } from './limits.js';
import { PortalPanel } from './portal.js';

/** Ready-made chaos settings, as the README describes them. */
const EXAMPLES: { label: string; settings: unknown }[] = [
  { label: 'No faults', settings: { rules: [] } },
  {
    label: 'Every 2nd personal.add fails',
    settings: {
      rules: [
        {
          method: 'im.notify.personal.add',
          sequence: [null, { type: 'error', code: 'INTERNAL_SERVER_ERROR' }],
        },
      ],
    },
  },
  {
    label: '5% QUERY_LIMIT_EXCEEDED',
    settings: {
      seed: 42,
      rules: [{ method: '*', probability: 0.05, faults: [{ type: 'error', code: 'QUERY_LIMIT_EXCEEDED' }] }],
    },
  },
  {
    label: 'Drop the next connection',
    settings: { rules: [{ method: '*', sequence: [{ type: 'reset' }] }] },
  },
  { label: '2 s delay', settings: { rules: [{ method: '*', faults: [{ type: 'delay', ms: 2000 }] }] } },
];

const STEPS: [string, number][] = [
  ['+1 min', 60_000],
  ['+10 min', 600_000],
  ['+1 h', 3_600_000],
  ['+1 day', 86_400_000],
];

/** What the view needs from the page. */
export interface ControlsHost {
  report(err: unknown): void;
}

/** The controls view. */
export class ControlsView {
  readonly root = el('div', 'view controls-view');
  readonly #limits = new LimitsPanel();
  readonly #portal = new PortalPanel();
  readonly #editor = el('textarea', 'chaos-editor');
  readonly #chaosStatus = statusLine('chaos-status');
  readonly #now = el('span', 'clock-now');
  readonly #offset = el('span', 'clock-offset');
  readonly #advance = el('input', 'clock-advance');
  readonly #clockStatus = statusLine('clock-status');
  #offsetMs = 0;
  #ticker: ReturnType<typeof setInterval> | undefined;

  constructor(host: ControlsHost) {
    this.#editor.spellcheck = false;
    this.#editor.rows = 14;
    this.#editor.setAttribute('aria-label', 'Chaos settings as JSON');
    const examples = el('div', 'examples', el('span', 'muted', 'Examples: '));
    for (const example of EXAMPLES) {
      examples.append(
        button(example.label, 'example', () => {
          this.#editor.value = JSON.stringify(example.settings, null, 2);
          showStatus(this.#chaosStatus, 'Not applied yet: press Apply.', 'muted');
        }),
      );
    }
    const apply = button('Apply', 'primary chaos-apply', () => void this.#applyChaos());

    this.#advance.placeholder = 'e.g. 90s, 5m, 2h, 1d';
    this.#advance.setAttribute('aria-label', 'Advance the clock by');
    this.#advance.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') void this.#advanceBy(this.#advance.value);
    });
    const steps = STEPS.map(([label, ms]) => button(label, 'step', () => void this.#moveClock(ms)));

    let armed: ReturnType<typeof setTimeout> | undefined;
    // Two clicks instead of confirm(): a dialog would stop scripts and tests alike.
    const reset = button('Reset portal…', 'danger reset', () => {
      if (armed === undefined) {
        reset.textContent = 'Click again: forget notifications, log, faults and clock';
        armed = setTimeout(() => {
          armed = undefined;
          reset.textContent = 'Reset portal…';
        }, 4000);
        return;
      }
      clearTimeout(armed);
      armed = undefined;
      reset.textContent = 'Reset portal…';
      api.reset().then(
        () => void this.load(),
        (err: unknown) => host.report(err),
      );
    });

    this.root.append(
      this.#limits.root,
      this.#portal.root,
      el(
        'section',
        'panel chaos',
        el('h2', null, 'Fault injection'),
        el(
          'p',
          'muted',
          'PUT /_emulator/api/chaos: per method (or *), a probability with faults, or a scripted sequence. ' +
            'Faults: error (any code), reset, delay, truncate.',
        ),
        this.#editor,
        el('div', 'row', apply, examples),
        this.#chaosStatus,
      ),
      el(
        'section',
        'panel clock',
        el('h2', null, 'Portal clock'),
        el('p', null, 'Portal time: ', this.#now, ' · offset: ', this.#offset),
        el(
          'div',
          'row',
          ...steps,
          this.#advance,
          button('Advance', 'clock-advance-button', () => void this.#advanceBy(this.#advance.value)),
          button('Back to real time', 'clock-zero', () => void this.#setClock(api.setClockOffset(0))),
        ),
        this.#clockStatus,
      ),
      el(
        'section',
        'panel reset-panel',
        el('h2', null, 'Reset'),
        el(
          'p',
          'muted',
          'Forget notifications, the request log, limit counters, faults and the clock offset.',
        ),
        reset,
      ),
    );
  }

  /** Load the current settings; starts the clock display. */
  async load(): Promise<void> {
    await Promise.all([
      this.#limits.load(),
      this.#portal.load(),
      this.#loadChaos(),
      this.#setClock(api.clock()),
    ]);
    clearInterval(this.#ticker);
    this.#ticker = setInterval(() => this.#renderClock(), 1000);
  }

  async #loadChaos(): Promise<void> {
    try {
      this.#editor.value = JSON.stringify(await api.chaos(), null, 2);
      showStatus(this.#chaosStatus, '', 'muted');
    } catch (err) {
      showStatus(this.#chaosStatus, errorMessage(err), 'error');
    }
  }

  /** Stop the ticking clock while the view is hidden. */
  hide(): void {
    clearInterval(this.#ticker);
    this.#ticker = undefined;
  }

  async #applyChaos(): Promise<void> {
    let settings: unknown;
    try {
      settings = JSON.parse(this.#editor.value);
    } catch (err) {
      showStatus(this.#chaosStatus, `Not valid JSON: ${errorMessage(err)}`, 'error');
      return;
    }
    try {
      this.#editor.value = JSON.stringify(await api.setChaos(settings), null, 2);
      showStatus(this.#chaosStatus, 'Applied.', 'ok');
    } catch (err) {
      showStatus(this.#chaosStatus, errorMessage(err), 'error');
    }
  }

  async #advanceBy(input: string): Promise<void> {
    const ms = parseDuration(input);
    if (ms === undefined) {
      showStatus(this.#clockStatus, 'Give a duration such as 90s, 5m, 2h, 1d or milliseconds.', 'error');
      return;
    }
    await this.#moveClock(ms);
  }

  #moveClock(ms: number): Promise<void> {
    return this.#setClock(api.advanceClock(ms));
  }

  async #setClock(answer: Promise<{ now: number; offsetMs: number }>): Promise<void> {
    try {
      this.#offsetMs = (await answer).offsetMs;
      showStatus(this.#clockStatus, '', 'muted');
    } catch (err) {
      showStatus(this.#clockStatus, errorMessage(err), 'error');
    }
    this.#renderClock();
  }

  #renderClock(): void {
    this.#now.textContent = formatDateTime(Date.now() + this.#offsetMs);
    this.#offset.textContent = formatOffset(this.#offsetMs);
    this.#offset.dataset.offsetMs = String(this.#offsetMs);
  }
}
