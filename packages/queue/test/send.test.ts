/** Adding: checked before anything is queued, deduplicated by key (also after delivery), key → TAG. */
import { B24ValidationError } from 'b24notify';
import { describe, expect, test } from 'vitest';
import { notifications, tagCounts, until } from './support/queue.js';
import { useQueueTestbed } from './support/testbed.js';

const bed = useQueueTestbed();
let n = 0;
/** A fresh prefix per test: one Redis, independent queues. */
const prefix = (): string => `t${++n}`;

describe('send', () => {
  test('a key is queued once, also after it was delivered; the key is the TAG', async () => {
    const p = prefix();
    const queue = bed.queue({ prefix: p });
    await queue.portals.set('acme', { webhookUrl: bed.emu.webhookUrl, clientId: 'billing' });
    const first = await queue.send('acme', { userId: 5, message: 'Invoice 42 paid' }, { key: 'invoice-42' });
    const again = await queue.send('acme', { userId: 5, message: 'Invoice 42 paid' }, { key: 'invoice-42' });
    expect(first).toEqual({ id: 'acme/invoice-42', key: 'invoice-42', duplicate: false });
    expect(again.duplicate).toBe(true);

    await bed.worker({ prefix: p });
    await until(async () => (await queue.result('acme', 'invoice-42'))?.state === 'sent', 'sent');
    const after = await queue.send('acme', { userId: 5, message: 'Invoice 42 paid' }, { key: 'invoice-42' });
    expect(after.duplicate).toBe(true);

    const result = await queue.result('acme', 'invoice-42');
    expect(result).toMatchObject({ state: 'sent', attempts: 1 });
    const stored = bed.emu.portal.store.all().filter((x) => x.tag === 'invoice-42');
    expect(stored).toHaveLength(1);
    expect(stored[0]?.id).toBe(result?.notificationId);
    expect(await queue.stats('acme')).toMatchObject({
      pending: 0,
      sending: 0,
      sent: 1,
      failed: 0,
      refused: 0,
    });
  });

  test('a key that is not a plain TAG becomes one derived from it; a notification keeps its own tag', async () => {
    const p = prefix();
    const queue = bed.queue({ prefix: p });
    await queue.portals.set('acme', { webhookUrl: bed.emu.webhookUrl });
    await queue.send('acme', { userId: 1, message: 'spaces' }, { key: 'order 7 / shipped ✓' });
    await queue.send('acme', { userId: 1, message: 'own tag', tag: 'mine-1' }, { key: 'k-own' });
    await bed.worker({ prefix: p });
    await until(async () => (await queue.stats('acme')).sent === 2, 'both sent');
    const tags = bed.emu.portal.store
      .all()
      .filter((x) => x.message === 'spaces' || x.message === 'own tag')
      .map((x) => x.tag);
    expect(tags).toContain('mine-1');
    expect(tags.find((t) => t !== 'mine-1')).toMatch(/^b24q-[0-9a-f]{40}$/);
  });

  test('a bad notification is refused with its field named, and nothing is queued', async () => {
    const queue = bed.queue({ prefix: prefix() });
    await expect(queue.send('acme', { userId: 0, message: 'x' })).rejects.toThrow(/notification\.userId/);
    await expect(
      queue.send('acme', { userId: 1, message: 'x', attach: [{ BROKEN: 1 }] as never }),
    ).rejects.toThrow(B24ValidationError);
    const bad = [...notifications(3), { key: 'bad', userId: 1, message: '' }];
    await expect(queue.sendMany('acme', bad)).rejects.toThrow(/items\[3\]\.message/);
    await expect(queue.send('bad portal id!', { userId: 1, message: 'x' })).rejects.toThrow(/portalId/);
    expect(await queue.stats('acme')).toMatchObject({ pending: 0 });
  });

  test('a bad item in a stream stops it: the error names it and says how many before it were queued', async () => {
    const queue = bed.queue({ prefix: prefix() });
    async function* source(): AsyncGenerator<{ key: string; userId: number; message: string }> {
      yield* notifications(600, 'ok');
      yield { key: 'bad', userId: -1, message: 'x' };
      yield* notifications(5, 'never');
    }
    const err = await queue.sendMany('acme', source()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(B24ValidationError);
    expect((err as Error).message).toMatch(/items\[600\]\.userId/);
    expect((err as Error).message).toMatch(/the 600 notifications before it are queued/);
    expect(await queue.stats('acme')).toMatchObject({ pending: 600 });
    expect(await queue.result('acme', 'never-0')).toBeUndefined();
  });

  test('sendMany streams an async iterable, deduplicating keys within it and against the queue', async () => {
    const p = prefix();
    const queue = bed.queue({ prefix: p });
    await queue.portals.set('acme', { webhookUrl: bed.emu.webhookUrl, clientId: 'bulk' });
    let produced = 0;
    async function* source(): AsyncGenerator<{ key: string; userId: number; message: string }> {
      for (const x of notifications(1200, 'stream')) {
        produced++;
        yield x;
      }
      // Repeats: within the stream and of what is already queued.
      yield { key: 'stream-0', userId: 1, message: 'again' };
      yield { key: 'stream-1199', userId: 1, message: 'again' };
    }
    const result = await queue.sendMany('acme', source());
    expect(produced).toBe(1200);
    expect(result).toEqual({ added: 1200, duplicates: 2 });
    await bed.worker({ prefix: p });
    await until(async () => (await queue.stats('acme')).sent === 1200, '1200 sent');
    const counts = tagCounts(bed.emu);
    for (let i = 0; i < 1200; i++) expect(counts.get(`stream-${i}`)).toBe(1);
  });
});
