/**
 * The worker keeps a config from `resolvePortal` for `resolveCacheMs` per portal, so a secret
 * store is not asked before every batch, and asks again when the credentials may have changed:
 * refused (parked, then resumed), re-authorised, or refreshed.
 */
import type { PortalConfig } from '@b24notify/queue';
import { describe, expect, test } from 'vitest';
import { issueTokens, notifications, oauthPortal, spentTokens, until } from './support/queue.js';
import { useQueueTestbed } from './support/testbed.js';

const bed = useQueueTestbed();

/** A resolver over a store the test changes, counting how often it is asked. */
function counting(initial: PortalConfig): {
  resolvePortal: (id: string) => Promise<PortalConfig>;
  asked: () => number;
  set: (config: PortalConfig) => void;
} {
  let config = initial;
  let asked = 0;
  return {
    resolvePortal: async (id) => {
      expect(id).toBe('p');
      asked++;
      return config;
    },
    asked: () => asked,
    set: (next) => (config = next),
  };
}

describe('resolver cache', () => {
  test('a busy portal: the resolver is asked once, not once per batch', async () => {
    const queue = bed.queue({ prefix: 'rc1' });
    const store = counting({ webhookUrl: bed.emu.webhookUrl, clientId: 'rc1' });
    await queue.sendMany('p', notifications(150, 'rc1'));
    await bed.worker({ prefix: 'rc1', resolvePortal: store.resolvePortal });
    await until(async () => (await queue.stats('p')).sent === 150, '150 sent');
    expect((await queue.stats('p')).batches).toBeGreaterThanOrEqual(3);
    expect(store.asked()).toBe(1);
  });

  test('resolveCacheMs 0: asked before every batch', async () => {
    const queue = bed.queue({ prefix: 'rc2' });
    const store = counting({ webhookUrl: bed.emu.webhookUrl, clientId: 'rc2' });
    await queue.sendMany('p', notifications(150, 'rc2'));
    await bed.worker({
      prefix: 'rc2',
      resolvePortal: store.resolvePortal,
      resolveCacheMs: 0,
    });
    await until(async () => (await queue.stats('p')).sent === 150, '150 sent');
    expect(store.asked()).toBeGreaterThanOrEqual((await queue.stats('p')).batches);
    await expect(bed.worker({ prefix: 'rc2', resolveCacheMs: -1 })).rejects.toThrow(/resolveCacheMs/);
  });

  test('refused credentials park the portal; resumed, the resolver is asked again', async () => {
    const queue = bed.queue({ prefix: 'rc3' });
    const wrong = bed.emu.webhookUrl.replace(/\/rest\/(\d+)\/[^/]+\//, '/rest/$1/not-the-code/');
    expect(wrong).not.toBe(bed.emu.webhookUrl);
    const store = counting({ webhookUrl: wrong, clientId: 'rc3' });
    await queue.sendMany('p', notifications(10, 'rc3'));
    await bed.worker({ prefix: 'rc3', resolvePortal: store.resolvePortal });
    await until(async () => (await queue.stats('p')).parked === 10, 'parked');
    expect(store.asked()).toBe(1);

    // The owner fixes the store, and resumes the portal with portals.set (queue.resume: resume.test.ts).
    store.set({ webhookUrl: bed.emu.webhookUrl, clientId: 'rc3' });
    await queue.portals.set('p', { webhookUrl: bed.emu.webhookUrl, clientId: 'rc3' });
    await until(async () => (await queue.stats('p')).sent === 10, 'sent after the fix');
    expect(store.asked()).toBe(2);
  });

  test('reauthorize: the resolver is asked again', async () => {
    const queue = bed.queue({ prefix: 'rc4' });
    // A spent refresh token and an expired access token: the refresh is refused, the portal parked.
    const spent = await spentTokens(bed.emu);
    await queue.portals.set('p', oauthPortal(bed.emu, spent));
    const store = counting(oauthPortal(bed.emu, spent));
    await queue.sendMany('p', notifications(10, 'rc4'));
    await bed.worker({ prefix: 'rc4', resolvePortal: store.resolvePortal });
    await until(async () => (await queue.stats('p')).parked === 10, 'parked');
    expect(store.asked()).toBe(1);

    const fresh = await issueTokens(bed.emu);
    store.set(oauthPortal(bed.emu, fresh));
    await queue.portals.reauthorize('p', fresh);
    await until(async () => (await queue.stats('p')).sent === 10, 'sent after reauthorize');
    expect(store.asked()).toBe(2);
  });

  test('a token refreshed by the worker: the resolver, told in onTokens, is asked again', async () => {
    const queue = bed.queue({ prefix: 'rc5' });
    const store = counting(oauthPortal(bed.emu, await issueTokens(bed.emu, true)));
    await queue.sendMany('p', notifications(100, 'rc5'));
    await bed.worker({
      prefix: 'rc5',
      secretKey: undefined,
      resolvePortal: store.resolvePortal,
      onTokens: (_id, pair) => store.set(oauthPortal(bed.emu, pair)),
    });
    await until(async () => (await queue.stats('p')).sent === 100, '100 sent');
    expect(store.asked()).toBe(2);
  });
});
