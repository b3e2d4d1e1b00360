/**
 * The worker keeps a config from `resolvePortal` for `resolveCacheMs` per portal, so a secret
 * store is not asked before every batch, and asks again when the credentials may have changed:
 * refused (parked, then resumed), re-authorised, or refreshed.
 */
import type { PortalConfig } from '@b24notify/queue';
import { describe, expect, test } from 'vitest';
import { notifications, until } from './support/queue.js';
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

/** A new token pair from the emulator's app, optionally with its access token already expired. */
async function tokens(expired = false): Promise<{ accessToken: string; refreshToken: string }> {
  const res = await fetch(`${bed.emu.url}/_emulator/api/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ expired }),
  });
  const t = (await res.json()) as { accessToken: string; refreshToken: string };
  return { accessToken: t.accessToken, refreshToken: t.refreshToken };
}

function oauthConfig(pair: { accessToken: string; refreshToken: string }): PortalConfig {
  return {
    portal: bed.emu.url,
    oauth: {
      clientId: bed.emu.tokens.clientId,
      clientSecret: bed.emu.tokens.clientSecret,
      ...pair,
      tokenUrl: `${bed.emu.url}/oauth/token/`,
    },
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
    const spent = await tokens(true);
    await fetch(`${bed.emu.url}/oauth/token/`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: bed.emu.tokens.clientId,
        client_secret: bed.emu.tokens.clientSecret,
        refresh_token: spent.refreshToken,
      }),
    });
    await queue.portals.set('p', oauthConfig(spent));
    const store = counting(oauthConfig(spent));
    await queue.sendMany('p', notifications(10, 'rc4'));
    await bed.worker({ prefix: 'rc4', resolvePortal: store.resolvePortal });
    await until(async () => (await queue.stats('p')).parked === 10, 'parked');
    expect(store.asked()).toBe(1);

    const fresh = await tokens();
    store.set(oauthConfig(fresh));
    await queue.portals.reauthorize('p', fresh);
    await until(async () => (await queue.stats('p')).sent === 10, 'sent after reauthorize');
    expect(store.asked()).toBe(2);
  });

  test('a token refreshed by the worker: the resolver, told in onTokens, is asked again', async () => {
    const queue = bed.queue({ prefix: 'rc5' });
    const store = counting(oauthConfig(await tokens(true)));
    await queue.sendMany('p', notifications(100, 'rc5'));
    await bed.worker({
      prefix: 'rc5',
      secretKey: undefined,
      resolvePortal: store.resolvePortal,
      onTokens: (_id, pair) => store.set(oauthConfig(pair)),
    });
    await until(async () => (await queue.stats('p')).sent === 100, '100 sent');
    expect(store.asked()).toBe(2);
  });
});
