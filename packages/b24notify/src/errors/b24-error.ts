/**
 * Whether a failed call may have taken effect on the portal.
 * - `not-delivered`: certainly not applied (refused before or by the portal, or never sent).
 * - `unknown`: the request may have reached the portal and been applied (a timeout after
 *   sending, a dropped connection, a 500): re-sending an untagged notification could duplicate it.
 */
export type Delivery = 'not-delivered' | 'unknown';

/** What every b24notify error carries, besides its message. */
export interface B24ErrorOptions {
  /** The REST method called, e.g. `im.notify.personal.add`. */
  method?: string;
  /** The portal's host (never the webhook path or a token). */
  host?: string;
  delivery: Delivery;
  cause?: unknown;
}

/**
 * The base of every error b24notify throws. Messages name the method and the portal host and
 * never contain a webhook code or a token.
 */
export class B24Error extends Error {
  override name = 'B24Error';
  /** The REST method called. */
  readonly method: string | undefined;
  /** The portal's host. */
  readonly host: string | undefined;
  /** Whether the call may have taken effect; see {@link Delivery}. */
  readonly delivery: Delivery;

  constructor(message: string, options: B24ErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.method = options.method;
    this.host = options.host;
    this.delivery = options.delivery;
  }
}

/** `where` for messages: ` (im.notify.personal.add on portal.bitrix24.com)`. */
export function where(method: string | undefined, host: string | undefined): string {
  if (!method && !host) return '';
  if (!host) return ` (${method})`;
  if (!method) return ` (on ${host})`;
  return ` (${method} on ${host})`;
}

/** True when `error` is a {@link B24Error} (also across copies of the package, by name). */
export function isB24Error(error: unknown): error is B24Error {
  return error instanceof B24Error || (error instanceof Error && error.name.startsWith('B24'));
}
