/**
 * `queue.resume(portalId)`: a portal parked for refused credentials goes again once its owner's
 * store holds the fix, without the registry's key; every worker asks its resolver again.
 */
import type { PortalConfig, QueueEventMap } from '@b24notify/queue';
import { Redis } from 'ioredis';
import { describe, expect, test } from 'vitest';
import { emulator, notifications, tagCounts, until } from './support/queue.js';
import { useQueueTestbed } from './support/testbed.js';

const bed = useQueueTestbed();

/** The emulator's webhook with a code it refuses. */
function wrongWebhook(): string {
  const wrong = bed.emu.webhookUrl.replace(/\/rest\/(\d+)\/[^/]+\//, '/rest/$1/not-the-code/');
  expect(wrong).not.toBe(bed.emu.webhookUrl);
  return wrong;
}

/** The owner's secret store, which the test changes, and how often each portal was asked for. */
function store(initial: Record<string, PortalConfig>): {
  config: Record<string, PortalConfig | undefined>;
  asked: Map<string, number>;
  resolver: (id: string) => Promise<PortalConfig | undefined>;
} {
  const config: Record<string, PortalConfig | undefined> = { ...initial };
  const asked = new Map<string, number>();
  return {
    config,
    asked,
    resolver: async (id) => {
      asked.set(id, (asked.get(id) ?? 0) + 1);
      return config[id];
    },
  };
}

/** Notifications on the emulator whose tags start with `prefix`, by tag. */
function stored(prefix: string): Map<string | null, number> {
  return new Map([...tagCounts(bed.emu)].filter(([tag]) => tag?.startsWith(prefix)));
}

describe('queue.resume', () => {
  test('a resolver user fixes a refused webhook in the store: resume sends every waiting one once', async () => {
    // No secretKey anywhere: the user has no registry.
    const queue = bed.queue({ prefix: 'rs1', secretKey: undefined });
    const events: (QueueEventMap['parked'] | QueueEventMap['resumed'])[] = [];
    queue.on('parked', (e) => events.push(e));
    queue.on('resumed', (e) => events.push(e));
    const owner = store({ p: { webhookUrl: wrongWebhook(), clientId: 'rs1' } });
    await queue.sendMany('p', notifications(60, 'rs1'));
    for (let i = 0; i < 2; i++) {
      await bed.worker({
        prefix: 'rs1',
        secretKey: undefined,
        resolvePortal: owner.resolver,
      });
    }
    await until(async () => (await queue.stats('p')).parked === 60, 'all 60 parked');
    await until(() => events.some((e) => 'reason' in e && !('by' in e)), 'the parked event');
    expect((await queue.result('p', 'rs1-0'))?.state).toBe('parked');
    expect(stored('rs1').size).toBe(0);

    owner.config.p = { webhookUrl: bed.emu.webhookUrl, clientId: 'rs1' };
    const result = await queue.resume('p');
    expect(result).toMatchObject({ resumed: true, waiting: 60 });
    expect(result.reason).toEqual(events[0] && 'reason' in events[0] ? events[0].reason : 'no parked event');
    expect(result.reason).not.toContain('not-the-code');

    await until(async () => (await queue.stats('p')).sent === 60, 'all 60 sent after resume');
    const counts = stored('rs1');
    expect(counts.size).toBe(60);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(await queue.stats('p')).toMatchObject({ pending: 0, delayed: 0, parked: 0, failed: 0 });
    await until(() => events.some((e) => 'by' in e), 'the resumed event');
    expect(events.find((e) => 'by' in e)).toEqual({ portalId: 'p', reason: result.reason, by: 'resume' });
  });

  test('every worker asks its resolver again, also one that kept the old config', async () => {
    const queue = bed.queue({ prefix: 'rs2', secretKey: undefined });
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const owner = store({ p: { webhookUrl: bed.emu.webhookUrl, clientId: 'rs2-before' } });
    const a = store({});
    // Worker A: one batch at a time, and its store answers for "busy" only when the test says.
    const workerA = await bed.worker({
      prefix: 'rs2',
      secretKey: undefined,
      concurrency: 1,
      // Kept for the whole test unless something says the config changed.
      resolveCacheMs: 3_600_000,
      resolvePortal: async (id) => {
        if (id === 'busy') {
          await a.resolver(id);
          await gate;
          return { webhookUrl: bed.emu.webhookUrl, clientId: 'rs2-busy' };
        }
        return owner.resolver(id);
      },
    });
    await queue.sendMany('p', notifications(10, 'rs2a'));
    await until(async () => (await queue.stats('p')).sent === 10, 'A sends the first 10');
    expect(owner.asked.get('p')).toBe(1);

    // A is held by another portal's batch; B takes p's next one, with the store now wrong.
    await queue.send('busy', { userId: 1, message: 'holds worker A' }, { key: 'rs2-busy' });
    await until(() => a.asked.get('busy') === 1, 'A to be busy');
    owner.config.p = { webhookUrl: wrongWebhook(), clientId: 'rs2-wrong' };
    const workerB = await bed.worker({
      prefix: 'rs2',
      secretKey: undefined,
      resolvePortal: owner.resolver,
    });
    await queue.sendMany('p', notifications(10, 'rs2b'));
    await until(async () => (await queue.stats('p')).parked === 10, 'parked by B');
    expect(owner.asked.get('p')).toBe(2);

    // Only A is left, still keeping the config it was given before the park.
    await workerB.close();
    owner.config.p = { webhookUrl: bed.emu.webhookUrl, clientId: 'rs2-after' };
    release();
    await until(async () => (await queue.stats('busy')).sent === 1, 'A free again');
    expect(await queue.resume('p')).toMatchObject({ resumed: true, waiting: 10 });
    await until(async () => (await queue.stats('p')).sent === 20, 'the 10 parked sent by A');
    expect(owner.asked.get('p')).toBe(3);
    const after = bed.emu.portal.store.all().filter((n) => n.tag?.startsWith('rs2b'));
    expect(after).toHaveLength(10);
    expect(new Set(after.map((n) => n.clientId))).toEqual(new Set(['rs2-after']));
    await workerA.close();
  });

  test("OAuth from a resolver, with a key: resume uses the store's new pair, not the refreshed one the queue kept", async () => {
    // An emulator of its own: the test moves its clock.
    const portal = bed.closer.add(await emulator());
    const control = (path: string, method: string, body: unknown): Promise<Response> =>
      fetch(`${portal.url}/_emulator/api${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const issued = (await (await control('/tokens', 'POST', { expired: true })).json()) as {
      accessToken: string;
      refreshToken: string;
    };
    const oauth = (pair: { accessToken: string; refreshToken: string }): PortalConfig => ({
      portal: portal.url,
      oauth: {
        clientId: portal.tokens.clientId,
        clientSecret: portal.tokens.clientSecret,
        accessToken: pair.accessToken,
        refreshToken: pair.refreshToken,
        tokenUrl: `${portal.url}/oauth/token/`,
      },
    });
    const owner = store({ app: oauth(issued) });
    const queue = bed.queue({ prefix: 'rs5' });
    await bed.worker({
      prefix: 'rs5',
      resolvePortal: owner.resolver,
      onTokens: (id, pair) => void (owner.config[id] = oauth(pair)),
    });
    await queue.sendMany('app', notifications(5, 'rs5a'));
    await until(async () => (await queue.stats('app')).sent === 5, 'sent after the first refresh');
    const refreshed = owner.config.app as { oauth: { accessToken: string; refreshToken: string } };

    // Two hours on, the kept pair has expired, and its refresh token is spent elsewhere: the
    // owner authorised the app again and holds the pair that gave.
    await control('/clock', 'PUT', { advanceMs: 2 * 3600_000 });
    const answer = (await (
      await fetch(`${portal.url}/oauth/token/`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          client_id: portal.tokens.clientId,
          client_secret: portal.tokens.clientSecret,
          refresh_token: refreshed.oauth.refreshToken,
        }),
      })
    ).json()) as { access_token: string; refresh_token: string };
    await queue.sendMany('app', notifications(5, 'rs5b'));
    await until(async () => (await queue.stats('app')).parked === 5, 'parked: invalid_grant');

    owner.config.app = oauth({ accessToken: answer.access_token, refreshToken: answer.refresh_token });
    expect(await queue.resume('app')).toMatchObject({
      resumed: true,
      reason: expect.stringMatching(/invalid_grant/),
    });
    await until(async () => (await queue.stats('app')).sent === 10, "sent with the store's pair");
    expect(portal.portal.store.all().filter((n) => n.tag?.startsWith('rs5b'))).toHaveLength(5);
  });

  test('two producers resume one portal at once: it is resumed once, its token generation moves once', async () => {
    const queue = bed.queue({ prefix: 'rs6', secretKey: undefined });
    const other = bed.queue({ prefix: 'rs6', secretKey: undefined });
    const resumed: QueueEventMap['resumed'][] = [];
    queue.on('resumed', (e) => resumed.push(e));
    const owner = store({ p: { webhookUrl: wrongWebhook(), clientId: 'rs6' } });
    await queue.sendMany('p', notifications(20, 'rs6'));
    await bed.worker({ prefix: 'rs6', secretKey: undefined, resolvePortal: owner.resolver });
    await until(async () => (await queue.stats('p')).parked === 20, 'all 20 parked');

    const redis = new Redis(bed.redis.url);
    bed.closer.add({ close: () => redis.quit() });
    const generation = async (): Promise<number> => Number((await redis.hget('rs6:tokgen', 'p')) ?? '0');
    const before = await generation();
    owner.config.p = { webhookUrl: bed.emu.webhookUrl, clientId: 'rs6' };
    // A second bump while a tick of the resumed portal refreshes would fence its new pair out.
    const results = await Promise.all([queue.resume('p'), other.resume('p')]);
    expect(results.filter((r) => r.resumed)).toHaveLength(1);
    expect(results.filter((r) => !r.resumed)).toEqual([{ resumed: false, waiting: expect.any(Number) }]);
    expect(await generation()).toBe(before + 1);

    await until(async () => (await queue.stats('p')).sent === 20, 'all 20 sent after resume');
    expect([...stored('rs6').values()]).toEqual(new Array(20).fill(1));
    await until(() => resumed.length >= 1, 'the resumed event');
    expect(resumed).toEqual([{ portalId: 'p', reason: expect.any(String), by: 'resume' }]);
  });

  test('a portal that is not parked: nothing done, said so; an unknown id: an error naming it', async () => {
    const queue = bed.queue({ prefix: 'rs3', secretKey: undefined });
    const resumed: QueueEventMap['resumed'][] = [];
    queue.on('resumed', (e) => resumed.push(e));
    await queue.sendMany('p', notifications(5, 'rs3'));
    expect(await queue.resume('p')).toEqual({ resumed: false, waiting: 5 });
    await bed.worker({
      prefix: 'rs3',
      secretKey: undefined,
      resolvePortal: (id) => (id === 'p' ? { webhookUrl: bed.emu.webhookUrl, clientId: 'rs3' } : undefined),
    });
    await until(async () => (await queue.stats('p')).sent === 5, '5 sent');
    expect(await queue.resume('p')).toEqual({ resumed: false, waiting: 0 });

    await expect(queue.resume('nobody')).rejects.toMatchObject({
      name: 'QueueError',
      code: 'PORTAL',
      message: expect.stringMatching(/^portalId "nobody": .*prefix "rs3"/),
    });
    await expect(queue.resume('no way!')).rejects.toThrow(/portalId/);
    // A registered portal with nothing queued is known: not parked, no error.
    const registry = bed.queue({ prefix: 'rs3' });
    await registry.portals.set('quiet', { webhookUrl: bed.emu.webhookUrl });
    expect(await registry.resume('quiet')).toEqual({ resumed: false, waiting: 0 });

    // The resolver does not know "ghost": parked. Its resume is the only event: the no-ops
    // before it, read earlier from the same stream, raised none.
    await queue.send('ghost', { userId: 1, message: 'to no one' }, { key: 'rs3-ghost' });
    await until(async () => (await queue.stats('ghost')).parked === 1, 'ghost parked');
    expect(await queue.resume('ghost')).toMatchObject({
      resumed: true,
      reason: expect.stringMatching(/^NOT_REGISTERED/),
    });
    await until(() => resumed.length > 0, 'the resumed event');
    expect(resumed).toEqual([
      { portalId: 'ghost', reason: expect.stringMatching(/^NOT_REGISTERED/), by: 'resume' },
    ]);
  });

  test('a registry portal: resume keeps its credentials; set raises the event too', async () => {
    const queue = bed.queue({ prefix: 'rs4' });
    const events: QueueEventMap['resumed'][] = [];
    queue.on('resumed', (e) => events.push(e));
    await queue.portals.set('hook', { webhookUrl: wrongWebhook(), clientId: 'rs4' });
    await queue.sendMany('hook', notifications(5, 'rs4a'));
    await bed.worker({ prefix: 'rs4' });
    await until(async () => (await queue.stats('hook')).parked === 5, 'parked');

    // Resumed with the same wrong webhook: refused again, parked again, nothing lost.
    const first = await queue.resume('hook');
    expect(first).toMatchObject({ resumed: true, waiting: 5 });
    await until(() => events.length === 1, 'the first resumed event');
    await until(async () => (await queue.portals.list())[0]?.parked === true, 'parked again');
    expect(await queue.stats('hook')).toMatchObject({ parked: 5, sent: 0, failed: 0 });

    await queue.portals.set('hook', { webhookUrl: bed.emu.webhookUrl, clientId: 'rs4' });
    await until(async () => (await queue.stats('hook')).sent === 5, 'sent after set');
    await until(() => events.length === 2, 'the event of set');
    expect(events.map((e) => e.by)).toEqual(['resume', 'set']);
    expect(events[1]?.reason).toBe(first.reason);
    expect([...stored('rs4a').values()]).toEqual([1, 1, 1, 1, 1]);
  });
});
