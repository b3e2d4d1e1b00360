/**
 * The registry's encryption at rest: AES-256-GCM with a key from the environment, so that a copy
 * of Redis (a dump, an AOF, a replica) holds no usable webhook code, token or client secret.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { QueueError } from './errors.js';

/** The environment variable that holds the key when no `secretKey` option is given. */
export const KEY_ENV = 'B24NOTIFY_QUEUE_KEY';

const FORMAT = 'v1';

/** The 32-byte key from 64 hex digits or base64; a clear error (never the value) otherwise. */
export function parseKey(given: string | undefined): Buffer {
  const value = given ?? process.env[KEY_ENV];
  const source = given === undefined ? `the environment variable ${KEY_ENV}` : 'the secretKey option';
  const fix = `set ${KEY_ENV} (or pass secretKey) to 32 random bytes, e.g. the output of: openssl rand -hex 32`;
  if (value === undefined || value.trim() === '') {
    throw new QueueError('KEY', `no encryption key for the portal registry: ${fix}`);
  }
  const text = value.trim();
  const key = /^[0-9a-f]{64}$/i.test(text)
    ? Buffer.from(text, 'hex')
    : /^[A-Za-z0-9+/_-]{42,44}={0,2}$/.test(text)
      ? Buffer.from(text, 'base64')
      : undefined;
  if (key?.length !== 32) {
    throw new QueueError('KEY', `${source} is not 32 bytes as 64 hex digits or base64: ${fix}`);
  }
  return key;
}

/**
 * `value` as JSON, encrypted and authenticated. `context` (the portal id) is bound to it as
 * associated data: a record copied to another portal's slot does not decrypt.
 */
export function seal(key: Buffer, context: string, value: unknown): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return `${FORMAT}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
}

/** The value {@link seal} stored; a `DECRYPT` error when the key is wrong or the record altered. */
export function open(key: Buffer, context: string, sealed: string): unknown {
  try {
    if (!sealed.startsWith(`${FORMAT}.`)) throw new Error('unknown format');
    const raw = Buffer.from(sealed.slice(FORMAT.length + 1), 'base64');
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(raw.subarray(12, 28));
    const text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new QueueError(
      'DECRYPT',
      `the stored record of portal "${context}" cannot be decrypted: it was written with another key, or altered. Use the key it was written with, or set the portal again`,
      { cause: err },
    );
  }
}
