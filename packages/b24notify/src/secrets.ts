/**
 * Keeping the caller's secrets (a webhook's code, tokens, the client secret) out of every error
 * b24notify makes, whatever a server or a lower layer wrote: an `error_description` may quote
 * the request it refused, and a fetch error may quote the URL.
 */

/** Secrets shorter than this are not masked: masking a few common letters would garble text. */
export const MIN_SECRET_LENGTH = 4;

/** What a masked secret looks like. */
export const MASK = '***';

/** The secrets worth masking: long enough, longest first so one containing another goes whole. */
export function liveSecrets(secrets: readonly string[]): string[] {
  return secrets.filter((s) => s.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
}

/**
 * `text` with every secret replaced by `***`, also in the forms a server may quote it in: as
 * typed, percent-encoded (a form body, a query string) and JSON-escaped.
 */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  let masked = text;
  for (const secret of liveSecrets(secrets)) {
    for (const form of new Set([secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)])) {
      masked = masked.split(form).join(MASK);
    }
  }
  return masked;
}
