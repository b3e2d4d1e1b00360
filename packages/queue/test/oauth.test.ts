/**
 * OAuth across processes: one refresh per expiry whoever asks, the new pair stored before use,
 * `onTokens` told; a refused refresh parks the portal until it is re-authorised.
 */
import type { OAuthTokens } from 'b24notify';
import { Redis } from 'ioredis';
import { describe, expect, test } from 'vitest';
import type { QueueEventMap } from '@b24notify/queue';
import { parseKey } from '../src/crypto.js';
import { Keys } from '../src/keys.js';
import { renewMarginMs, TokenKeeper } from '../src/oauth.js';
import { Registry } from '../src/portals.js';
import { defineScripts } from '../src/scripts.js';
import {
  batchSizes,
  emulator,
  issueTokens,
  notifications,
  oauthPortal,
  requests,
  spentTokens,
  startupPair,
  tagCounts,
  until,
} from './support/queue.js';
import { useQueueTestbed } from './support/testbed.js';

const bed = useQueueTestbed();

const refreshes = async (): Promise<number> => (await requests(bed.emu, 'oauth.token')).length;

describe('oauth', () => {
  test('an expired token is refreshed once, stored sealed, and handed to onTokens', async () => {
    const before = await refreshes();
    const queue = bed.queue({ prefix: 'o1' });
    await queue.portals.set('app', oauthPortal(bed.emu, await issueTokens(bed.emu, true)));
    const seen: OAuthTokens[] = [];
    await bed.worker({ prefix: 'o1', onTokens: (_id, t) => void seen.push(t) });
    await bed.worker({ prefix: 'o1' });
    await queue.sendMany('app', notifications(300, 'oa'));
    await until(async () => (await queue.stats('app')).sent === 300, '300 sent');
    expect((await refreshes()) - before).toBe(1);
    expect((await requests(bed.emu)).filter((r) => r.error === 'invalid_grant')).toEqual([]);
    // The registry now holds the new pair (the old refresh token is spent).
    const stored = await queue.portals.get('app');
    expect(stored && 'oauth' in stored ? stored.oauth.accessToken : '').toBe(seen[0]?.accessToken ?? 'none');
    const counts = tagCounts(bed.emu);
    for (let i = 0; i < 300; i++) expect(counts.get(`oa-${i}`)).toBe(1);
  });

  test('two processes asking at once: one token request, both get the new pair', async () => {
    const keys = new Keys('o2');
    const conns = [new Redis(bed.redis.url), new Redis(bed.redis.url)];
    try {
      conns.forEach(defineScripts);
      const secret = parseKey(bed.key);
      const registries = conns.map((c) => new Registry(c, keys, secret, () => Promise.resolve()));
      const pair = await issueTokens(bed.emu, true);
      const config = oauthPortal(bed.emu, pair);
      await registries[0]?.set('app', config);
      const told: string[] = [];
      const keepers = conns.map(
        (c, i) => new TokenKeeper(c, keys, registries[i] as Registry, undefined, (id) => void told.push(id)),
      );
      const before = await refreshes();
      const [a, b] = await Promise.all(keepers.map((k) => k.refresh('app', config.oauth, pair.accessToken)));
      expect((await refreshes()) - before).toBe(1);
      expect(a?.accessToken).toBe(b?.accessToken);
      expect(a?.accessToken).not.toBe(pair.accessToken);
      expect(told).toEqual(['app']);
    } finally {
      conns.forEach((c) => c.disconnect());
    }
  });

  test('invalid_grant parks the portal (nothing failed) until reauthorize resumes it', async () => {
    const queue = bed.queue({ prefix: 'o3' });
    const parked: QueueEventMap['parked'][] = [];
    queue.on('parked', (e) => parked.push(e));
    // A spent refresh token: refreshing it is refused with invalid_grant.
    const spent = await spentTokens(bed.emu);
    await queue.portals.set('app', oauthPortal(bed.emu, spent));
    await queue.sendMany('app', notifications(120, 'pk'));
    await bed.worker({ prefix: 'o3' });
    await until(async () => (await queue.stats('app')).parked === 120, 'all parked');
    await until(() => parked.length > 0, 'the parked event');
    expect(parked[0]).toMatchObject({ portalId: 'app' });
    expect(parked[0]?.reason).toMatch(/invalid_grant/);
    expect(await queue.stats('app')).toMatchObject({ failed: 0, sent: 0, sending: 0 });
    expect((await queue.result('app', 'pk-0'))?.state).toBe('parked');
    expect(await queue.portals.list()).toEqual([expect.objectContaining({ id: 'app', parked: true })]);

    await queue.portals.reauthorize('app', await issueTokens(bed.emu));
    await until(async () => (await queue.stats('app')).sent === 120, 'all sent after reauthorize');
    expect((await queue.result('app', 'pk-0'))?.state).toBe('sent');
  });

  test('the renewal margin is a minute, or a tenth of a shorter-lived token’s lifetime', () => {
    const t = 1_700_000_000_000;
    expect(renewMarginMs({ issuedAt: t, expiresAt: t + 3_600_000 })).toBe(60_000);
    expect(renewMarginMs({ issuedAt: t, expiresAt: t + 50_000 })).toBe(5_000);
    // A lifetime not known (a pair supplied with the config): the full minute.
    expect(renewMarginMs({ expiresAt: t + 50_000 })).toBe(60_000);
    expect(renewMarginMs({})).toBe(60_000);
  });

  test('a token living under a minute is renewed near its end, not by every tick', async () => {
    // Access tokens of 50 s: under the one-minute margin, every tick used to renew one.
    const short = bed.closer.add(await emulator({ portal: { accessTokenTtl: 50 } }));
    const queue = bed.queue({ prefix: 'o4' });
    await queue.portals.set('app', oauthPortal(short, startupPair(short)));
    await queue.sendMany('app', notifications(500, 'st'));
    await bed.worker({ prefix: 'o4' });
    await until(async () => (await queue.stats('app')).sent === 500, '500 sent');
    const batches = (await batchSizes(short)).length;
    const renewed = (await requests(short, 'oauth.token')).filter((r) => r.status === 200).length;
    expect(batches).toBeGreaterThanOrEqual(10);
    // The supplied pair's lifetime is unknown, so it is renewed once (under a minute left);
    // the renewed one, 5 s before its end: another renewal only if the run outlived 45 s.
    expect(renewed).toBeGreaterThanOrEqual(1);
    expect(renewed).toBeLessThan(batches / 2);
    expect(
      (await requests(short)).filter((r) => r.error === 'invalid_grant' || r.error === 'expired_token'),
    ).toEqual([]);
  });
});
