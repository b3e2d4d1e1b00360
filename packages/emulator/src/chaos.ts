/**
 * Fault injection: rules that make chosen methods fail, hang up, stall or answer with a
 * cut-off body, either at random from a seed (so a failing run can be replayed) or by a
 * script of exactly which call fails how. The server asks {@link Chaos.pick} once per
 * method call and acts the fault out.
 */

/**
 * One injected fault.
 * - `error`: answer with this error code; `status` absent means the caller's default for
 *   the code (the documented status of a system error).
 * - `reset`: drop the connection without an answer.
 * - `delay`: wait `ms` (0 to 60 000) before handling the call normally.
 * - `truncate`: send only part of the answer body.
 */
export type Fault =
  | { type: 'error'; code: string; status?: number }
  | { type: 'reset' }
  | { type: 'delay'; ms: number }
  | { type: 'truncate' };

/**
 * A rule for one method (or every method with `*`; names compare case-insensitively, as
 * the portal resolves them). While `sequence` lasts, the nth call the rule matches gets
 * `sequence[n]` (`null` lets it pass). After that, or without a sequence, a rule with
 * `faults` fires with `probability` (1 when absent) and picks one of `faults` uniformly;
 * a rule without `faults` lets calls pass.
 */
export interface ChaosRule {
  method: string;
  probability?: number;
  faults?: Fault[];
  sequence?: (Fault | null)[];
}

/** The whole fault configuration; rules are tried in order and the first match applies. */
export interface ChaosSettings {
  /** Seed of the random choices; {@link DEFAULT_CHAOS_SEED} when absent. */
  seed?: number;
  rules: ChaosRule[];
}

/** The seed used when none is given; fixed so that runs without a seed still replay. */
export const DEFAULT_CHAOS_SEED = 0x5eed;

/** The longest delay a fault may inject, in ms: a cloud request is cut at 60 s (spec §1). */
export const MAX_DELAY_MS = 60_000;

const FAULT_FIELDS: Record<Fault['type'], readonly string[]> = {
  error: ['type', 'code', 'status'],
  reset: ['type'],
  delay: ['type', 'ms'],
  truncate: ['type'],
};
const RULE_FIELDS = ['method', 'probability', 'faults', 'sequence'];
const SETTINGS_FIELDS = ['seed', 'rules'];

/**
 * Mulberry32: a tiny 32-bit PRNG, good enough for picking faults and the same on every
 * platform, which `Math.random` is not.
 *
 * @returns a function giving floats in [0, 1)
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}

/**
 * Checks settings from an untrusted source (the control API's JSON) and returns a clean
 * copy with the seed filled in. Unknown fields are refused so a misspelt `probabilty`
 * does not silently turn a rule into "always".
 *
 * @throws Error whose message starts with the path of the bad field, e.g. `rules[0].probability: ...`
 */
export function parseChaosSettings(input: unknown): ChaosSettings {
  const settings = requireObject('settings', input);
  rejectUnknown('', settings, SETTINGS_FIELDS);
  const seed = settings['seed'] ?? DEFAULT_CHAOS_SEED;
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) {
    throw new Error(`seed: must be an integer from 0 to 4294967295, got ${describe(seed)}`);
  }
  const rules = settings['rules'];
  if (!Array.isArray(rules)) throw new Error(`rules: must be an array, got ${describe(rules)}`);
  return { seed, rules: rules.map((rule: unknown, i) => parseRule(`rules[${i}]`, rule)) };
}

function parseRule(path: string, input: unknown): ChaosRule {
  const rule = requireObject(path, input);
  rejectUnknown(`${path}.`, rule, RULE_FIELDS);
  const method = rule['method'];
  if (typeof method !== 'string' || method === '') {
    throw new Error(`${path}.method: must be a method name or "*", got ${describe(method)}`);
  }
  const out: ChaosRule = { method };
  const probability = rule['probability'];
  if (probability !== undefined) {
    if (typeof probability !== 'number' || !(probability >= 0 && probability <= 1)) {
      throw new Error(`${path}.probability: must be a number from 0 to 1, got ${describe(probability)}`);
    }
    out.probability = probability;
  }
  const faults = rule['faults'];
  if (faults !== undefined) {
    if (!Array.isArray(faults) || faults.length === 0) {
      throw new Error(`${path}.faults: must be a non-empty array, got ${describe(faults)}`);
    }
    out.faults = faults.map((fault: unknown, i) => parseFault(`${path}.faults[${i}]`, fault));
  } else if (probability !== undefined) {
    throw new Error(`${path}.faults: required when probability is given`);
  }
  const sequence = rule['sequence'];
  if (sequence !== undefined) {
    if (!Array.isArray(sequence))
      throw new Error(`${path}.sequence: must be an array, got ${describe(sequence)}`);
    out.sequence = sequence.map((fault: unknown, i) =>
      fault === null ? null : parseFault(`${path}.sequence[${i}]`, fault),
    );
  }
  if (out.faults === undefined && out.sequence === undefined) {
    throw new Error(`${path}: needs faults or sequence`);
  }
  return out;
}

function parseFault(path: string, input: unknown): Fault {
  const fault = requireObject(path, input);
  const type = fault['type'];
  if (typeof type !== 'string' || !Object.hasOwn(FAULT_FIELDS, type)) {
    throw new Error(
      `${path}.type: must be one of ${Object.keys(FAULT_FIELDS).join(', ')}, got ${describe(type)}`,
    );
  }
  const kind = type as Fault['type'];
  rejectUnknown(`${path}.`, fault, FAULT_FIELDS[kind]);
  switch (kind) {
    case 'error': {
      const code = fault['code'];
      if (typeof code !== 'string' || code === '') {
        throw new Error(`${path}.code: must be a non-empty error code, got ${describe(code)}`);
      }
      const status = fault['status'];
      if (status === undefined) return { type: 'error', code };
      if (typeof status !== 'number' || !Number.isInteger(status) || status < 400 || status > 599) {
        throw new Error(
          `${path}.status: must be an HTTP error status from 400 to 599, got ${describe(status)}`,
        );
      }
      return { type: 'error', code, status };
    }
    case 'delay': {
      const ms = fault['ms'];
      if (typeof ms !== 'number' || !(ms >= 0 && ms <= MAX_DELAY_MS)) {
        throw new Error(`${path}.ms: must be a number from 0 to ${MAX_DELAY_MS}, got ${describe(ms)}`);
      }
      return { type: 'delay', ms };
    }
    case 'reset':
      return { type: 'reset' };
    case 'truncate':
      return { type: 'truncate' };
  }
}

function requireObject(path: string, input: unknown): Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new Error(`${path}: must be an object, got ${describe(input)}`);
  }
  return input as Record<string, unknown>;
}

function rejectUnknown(prefix: string, input: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(input)) {
    if (!known.includes(key)) throw new Error(`${prefix}${key}: unknown field`);
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return JSON.stringify(value) ?? String(value);
}

/**
 * The fault injector of one emulator. Each rule counts the calls it matched, for its
 * `sequence`; all rules share one PRNG, so a given seed and call order replay the same
 * faults.
 */
export class Chaos {
  #settings: ChaosSettings = { seed: DEFAULT_CHAOS_SEED, rules: [] };
  #counters: number[] = [];
  #random: () => number = mulberry32(DEFAULT_CHAOS_SEED);

  /**
   * @param settings the initial rules; none when absent
   * @throws Error naming the bad field, as {@link parseChaosSettings}
   */
  constructor(settings: ChaosSettings = { rules: [] }) {
    this.configure(settings);
  }

  /**
   * Replaces the rules and restarts the rule counters and the PRNG from the seed. Bad
   * settings leave the current ones in place.
   *
   * @throws Error naming the bad field, as {@link parseChaosSettings}
   */
  configure(settings: ChaosSettings): void {
    const parsed = parseChaosSettings(settings);
    this.#settings = parsed;
    this.#counters = parsed.rules.map(() => 0);
    this.#random = mulberry32(parsed.seed ?? DEFAULT_CHAOS_SEED);
  }

  /** Whether any rule is set: without one, {@link pick} never returns a fault. */
  get armed(): boolean {
    return this.#settings.rules.length > 0;
  }

  /** The fault for this call of `method`, or `undefined` to handle it normally. */
  pick(method: string): Fault | undefined {
    // Asked on every call, and most portals have no rules: nothing to match.
    if (this.#settings.rules.length === 0) return undefined;
    const name = method.toLowerCase();
    const index = this.#settings.rules.findIndex((r) => r.method === '*' || r.method.toLowerCase() === name);
    const rule = this.#settings.rules[index];
    if (rule === undefined) return undefined;
    const n = this.#counters[index] ?? 0;
    this.#counters[index] = n + 1;
    if (rule.sequence !== undefined && n < rule.sequence.length) {
      return copyFault(rule.sequence[n] ?? null);
    }
    const faults = rule.faults;
    if (faults === undefined) return undefined;
    if (this.#random() >= (rule.probability ?? 1)) return undefined;
    const chosen = faults.length === 1 ? faults[0] : faults[Math.floor(this.#random() * faults.length)];
    return copyFault(chosen ?? null);
  }

  /** The settings in force, seed included, as a copy that can be fed back to replay a run. */
  settings(): ChaosSettings {
    return structuredClone(this.#settings);
  }
}

// Callers get their own object so that mutating a returned fault cannot change the rules.
function copyFault(fault: Fault | null): Fault | undefined {
  return fault === null ? undefined : { ...fault };
}
