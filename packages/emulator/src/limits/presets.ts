/**
 * The portal's REST limits (spec §4) as plain settings, with the plan presets the docs
 * give and a resolver that lets a test or the control API override single numbers.
 */

/** The intensity limit: a leaky bucket per portal and source IP. */
export interface IntensitySettings {
  /** How much the counter drains each second (the docs' Y). */
  drainPerSecond: number;
  /** The highest counter value a request may bring the bucket to (the docs' X). */
  capacity: number;
}

/**
 * How operating-time buckets are cut. `clock`: one bucket per clock minute (10:05:00 to
 * 10:05:59), the reading of the newer docs ("the sum for the corresponding minute").
 * `first-call`: a bucket spans the 60 s from its own first call. Either way a bucket
 * drops out `windowMinutes` after its first call. With `windowSeconds` set, buckets are
 * seconds instead of minutes, cut the same two ways.
 */
export type BucketAlignment = 'clock' | 'first-call';

/** The operating-time ("resource") limit per method and app or webhook. */
export interface OperatingSettings {
  /** Execution seconds a method may accumulate in the window before it is blocked. */
  budgetSeconds: number;
  /** The window length, in one-minute buckets. */
  windowMinutes: number;
  /**
   * Emulator only: a window of this many whole seconds, in one-second buckets, in place of
   * `windowMinutes`, so a test or a benchmark meets an operating-bound delivery in seconds.
   * Real portals have no such setting: their window is 10 minutes (bitrix-tools/b24-rest-docs,
   * limits.md).
   */
  windowSeconds?: number;
  /** How buckets are cut; `clock` when absent. */
  alignment?: BucketAlignment;
}

/** Every limit of a portal; `false` switches a limit off. */
export interface LimitSettings {
  intensity: IntensitySettings | false;
  operating: OperatingSettings | false;
}

/** A named set of limits: the docs' two cloud plans, or no limits at all. */
export type PlanPreset = 'standard' | 'enterprise' | 'off';

/** Overrides for {@link resolveLimits}: a partial limit is merged, `false` switches it off. */
export interface LimitOverrides {
  intensity?: Partial<IntensitySettings> | false;
  operating?: Partial<OperatingSettings> | false;
}

// The docs' example budget; the real cloud value is portal configuration and unpublished.
const OPERATING_DEFAULT: OperatingSettings = { budgetSeconds: 480, windowMinutes: 10, alignment: 'clock' };

/** The limits of each plan, from the docs' table (spec §4). */
export const PRESETS: Readonly<Record<PlanPreset, Readonly<LimitSettings>>> = Object.freeze({
  standard: Object.freeze({
    intensity: Object.freeze({ drainPerSecond: 2, capacity: 50 }),
    operating: Object.freeze({ ...OPERATING_DEFAULT }),
  }),
  enterprise: Object.freeze({
    intensity: Object.freeze({ drainPerSecond: 5, capacity: 250 }),
    operating: Object.freeze({ ...OPERATING_DEFAULT }),
  }),
  off: Object.freeze({ intensity: false, operating: false }),
});

/** True when `preset` names a known plan preset. */
export function isPlanPreset(preset: string): preset is PlanPreset {
  return Object.hasOwn(PRESETS, preset);
}

/**
 * The limits of `preset` (default `standard`, the plan most portals are on) with
 * `overrides` merged in. A partial override of a limit the preset switches off is
 * completed from `standard`, so `resolveLimits('off', { operating: { budgetSeconds: 5 } })`
 * turns on just the operating limit. Returns fresh objects the caller may keep.
 *
 * @throws Error naming the field when a value is out of range, for the control API's 400.
 */
export function resolveLimits(
  preset: PlanPreset = 'standard',
  overrides: LimitOverrides = {},
): LimitSettings {
  if (!isPlanPreset(preset)) throw new Error(`preset: unknown plan preset ${JSON.stringify(preset)}`);
  const base = PRESETS[preset];
  const fallback = PRESETS.standard;
  return {
    intensity: mergeLimit(base.intensity, fallback.intensity, overrides.intensity, validateIntensity),
    operating: mergeLimit(base.operating, fallback.operating, overrides.operating, validateOperating),
  };
}

function mergeLimit<T extends object>(
  base: T | false,
  fallback: T | false,
  override: Partial<T> | false | undefined,
  validate: (value: T) => T,
): T | false {
  if (override === false) return false;
  if (override === undefined) return base === false ? false : validate({ ...base });
  const start = base === false ? fallback : base;
  if (start === false) throw new Error('internal: the standard preset must define every limit');
  return validate({ ...start, ...stripUndefined(override) });
}

// `{ capacity: undefined }` from a JSON-less caller must not erase the preset value.
function stripUndefined<T extends object>(value: Partial<T>): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Checks intensity settings and returns them.
 *
 * @throws Error naming the field when a value is out of range.
 */
export function validateIntensity(settings: IntensitySettings): IntensitySettings {
  requirePositive('intensity.drainPerSecond', settings.drainPerSecond);
  requirePositive('intensity.capacity', settings.capacity);
  return settings;
}

/**
 * Checks operating settings and returns them.
 *
 * @throws Error naming the field when a value is out of range.
 */
export function validateOperating(settings: OperatingSettings): OperatingSettings {
  requirePositive('operating.budgetSeconds', settings.budgetSeconds);
  requirePositive('operating.windowMinutes', settings.windowMinutes);
  if (!Number.isInteger(settings.windowMinutes)) {
    throw new Error('operating.windowMinutes: must be a whole number of one-minute buckets');
  }
  const windowSeconds: unknown = settings.windowSeconds;
  if (windowSeconds !== undefined) {
    if (typeof windowSeconds !== 'number' || !Number.isInteger(windowSeconds) || windowSeconds < 1) {
      throw new Error(
        `operating.windowSeconds: must be a whole number of one-second buckets, at least 1, got ${JSON.stringify(windowSeconds)} (leave it out for the window of windowMinutes)`,
      );
    }
  }
  const alignment: unknown = settings.alignment;
  if (alignment !== undefined && alignment !== 'clock' && alignment !== 'first-call') {
    throw new Error(`operating.alignment: must be "clock" or "first-call", got ${JSON.stringify(alignment)}`);
  }
  return settings;
}

function requirePositive(field: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new Error(`${field}: must be a positive finite number, got ${JSON.stringify(value)}`);
  }
}
