import { afterEach, describe, expect, test } from 'vitest';
import { startPortal, TRANSPORTS, type TestPortal } from './support/portal.js';

describe.each(TRANSPORTS)('smoke over %s', (transport) => {
  let p: TestPortal;
  afterEach(() => p.close());
  test('personal over webhook, token and oauth', async () => {
    p = await startPortal(transport);
    const a = await p.webhookClient().notify.personal({ userId: 2, message: 'hi' });
    expect(a.result).toBe(1);
    const b = await p.tokenClient().notify.system({ userId: 2, message: 'hi2' });
    expect(b.result).toBe(2);
    const c = await p.oauthClient().notify.get();
    expect(c.result.notifications).toEqual([]);
  });
});
