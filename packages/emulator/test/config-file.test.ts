/**
 * Config-file validation of the settings that choose between readings of the docs: each is
 * taken with its documented values and refused otherwise, naming the field and the choices.
 */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/config.js';
import { validatePortalConfig } from '../src/config-file.js';

describe('portal settings in a config file', () => {
  it('defaults follow the docs', () => {
    expect(resolveConfig()).toMatchObject({
      errorTable: 'current',
      authServer: 'oauth.bitrix24.tech',
      batchOperating: 'per-command',
      tagsWithoutClientId: 'webhook',
      restNotificationReplies: 'none',
      requestTimeLimitSeconds: 60,
      schemaKeys: 'upper',
      attachGridDisplays: 'mixed',
    });
  });

  it('takes every documented value', () => {
    expect(
      validatePortalConfig({
        authServer: 'oauth.bitrix.info',
        batchOperating: 'batch',
        tagsWithoutClientId: 'ignore',
        restNotificationReplies: 'accept',
        attachGridDisplays: 'one',
        requestTimeLimitSeconds: 120,
        limits: { operating: { budgetSeconds: 2, windowSeconds: 10 } },
      }),
    ).toEqual({
      limits: { operating: { budgetSeconds: 2, windowSeconds: 10 } },
      authServer: 'oauth.bitrix.info',
      batchOperating: 'batch',
      tagsWithoutClientId: 'ignore',
      restNotificationReplies: 'accept',
      attachGridDisplays: 'one',
      requestTimeLimitSeconds: 120,
    });
  });

  it.each([
    [
      { batchOperating: 'sometimes' },
      'batchOperating: expected one of "per-command", "batch", got "sometimes"',
    ],
    [{ tagsWithoutClientId: true }, 'tagsWithoutClientId: expected one of "webhook", "ignore", got true'],
    [
      { restNotificationReplies: 'yes' },
      'restNotificationReplies: expected one of "none", "accept", got "yes"',
    ],
    [{ requestTimeLimitSeconds: 0 }, 'requestTimeLimitSeconds: expected a positive integer, got 0'],
    [{ authServer: '' }, 'authServer: expected a non-empty string, got ""'],
    [
      { authServer: 'https://oauth.bitrix.info' },
      'authServer: expected a host name such as "oauth.bitrix24.tech"',
    ],
    [{ schemaKeys: 'mixed' }, 'schemaKeys: expected one of "upper", "lower", got "mixed"'],
    [{ attachGridDisplays: 'any' }, 'attachGridDisplays: expected one of "mixed", "one", got "any"'],
    [
      { limits: { operating: { windowSeconds: 0.5 } } },
      'operating.windowSeconds: must be a whole number of one-second buckets, at least 1, got 0.5',
    ],
  ])('refuses %j, naming the field', (input, message) => {
    expect(() => validatePortalConfig(input)).toThrow(message);
  });
});
