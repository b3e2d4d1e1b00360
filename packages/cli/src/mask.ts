/**
 * Keeping secrets out of everything the CLI prints. Every byte written to stdout or stderr
 * goes through a {@link Masker} (see `io.ts`), so a secret cannot leak through a path nobody
 * thought of: a debug trace, a `--test` dump, an error message, `config show`.
 */

/** What a masked secret looks like. */
export const MASK = '***';

/** Object keys whose values are credentials wherever they appear. */
const SECRET_KEYS = new Set([
  'auth',
  'token',
  'accesstoken',
  'access_token',
  'refreshtoken',
  'refresh_token',
  'clientsecret',
  'client_secret',
]);

/**
 * Shapes of secrets in text, masked even when the secret itself was never registered (a
 * webhook URL typed into `call --params`, say):
 * - the code of a webhook URL, `/rest/1/<code>/`;
 * - credentials in a query string or form body;
 * - credentials as JSON string fields.
 */
const PATTERNS: readonly [RegExp, string][] = [
  [/(\/rest\/\d+\/)(?!\*\*\*)[^/\s"'?#<>]+/g, `$1${MASK}`],
  [/([?&](?:auth|access_token|refresh_token|client_secret)=)[^&\s"']+/gi, `$1${MASK}`],
  [
    /("(?:auth|token|access_?token|refresh_?token|client_?secret)"\s*:\s*")(?:[^"\\]|\\.)+(")/gi,
    `$1${MASK}$2`,
  ],
];

/**
 * Shorter values are not replaced as text: masking every `ab` in the output would garble it
 * and hide nothing worth hiding. They are still masked by key and by shape.
 */
const MIN_SECRET_LENGTH = 4;

/** The code of a webhook URL (`https://portal/rest/1/<code>/`), if `url` is one. */
export function webhookCode(url: string): string | undefined {
  return /\/rest\/\d+\/([^/\s?#]+)/.exec(url)?.[1];
}

/** Masks registered secrets and secret-shaped text in strings and in JSON-like values. */
export class Masker {
  readonly #secrets = new Set<string>();

  /**
   * Register secrets: tokens and client secrets as given; for a webhook URL, its code.
   * Undefined and empty values are ignored, so callers can pass optional fields directly.
   */
  add(...values: (string | undefined)[]): void {
    for (const value of values) {
      if (!value) continue;
      const code = webhookCode(value);
      const secret = code ?? value.trim();
      if (secret.length >= MIN_SECRET_LENGTH) this.#secrets.add(secret);
    }
  }

  /** `text` with every registered secret and every secret-shaped part replaced by `***`. */
  text(text: string): string {
    let masked = text;
    // Longest first, so a secret containing another is replaced whole.
    for (const secret of [...this.#secrets].sort((a, b) => b.length - a.length)) {
      masked = masked.split(secret).join(MASK);
    }
    for (const [pattern, replacement] of PATTERNS) masked = masked.replace(pattern, replacement);
    return masked;
  }

  /**
   * A deep copy of `value` with credential fields (`auth`, `token`, `client_secret`, …)
   * replaced by `***` and every string masked as {@link Masker.text} does.
   */
  value<T>(value: T): T {
    return this.#walk(value) as T;
  }

  #walk(value: unknown): unknown {
    if (typeof value === 'string') return this.text(value);
    if (Array.isArray(value)) return value.map((item) => this.#walk(item));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value).map(([key, item]) => [
          key,
          SECRET_KEYS.has(key.toLowerCase()) && typeof item === 'string' && item !== ''
            ? MASK
            : this.#walk(item),
        ]),
      );
    }
    return value;
  }
}
