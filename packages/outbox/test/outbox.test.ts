import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import type { RunningEmulator } from '@b24notify/emulator';
import { B24ValidationError } from 'b24notify';
import { afterEach, describe, expect, test } from 'vitest';
import { openOutbox, OutboxError, type Outbox } from '../src/index.js';
import { client, emulator, notifications, outboxPath, tagCounts, tamper, tempDir } from './support.js';

let emu: RunningEmulator | undefined;
const open: Outbox[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) o.close();
  await emu?.close();
  emu = undefined;
});

function outbox(path = outboxPath(), options: Parameters<typeof openOutbox>[1] = {}): Outbox {
  const o = openOutbox(path, options);
  open.push(o);
  return o;
}

function batchRequests(e: RunningEmulator): { status: number }[] {
  return e.portal.log.list(10_000).filter((r) => r.method === 'batch');
}

describe('queue and deliver', () => {
  test('1,000 notifications go out 50 to a batch; each arrives once, under its own tag', async () => {
    emu = await emulator();
    const box = outbox();
    const ids = box.add(notifications(1000));
    expect(ids).toHaveLength(1000);
    expect(box.stats()).toMatchObject({ pending: 1000, sent: 0 });

    const progress: number[] = [];
    let lastStats: unknown;
    const report = await box.deliver(client(emu), {
      onProgress: (p) => {
        progress.push(p.sent);
        lastStats = p.stats;
      },
    });
    expect(report).toMatchObject({ sent: 1000, failed: 0, unknown: 0, batches: 20, aborted: false });
    expect(report.stats).toEqual({ pending: 0, sending: 0, sent: 1000, failed: 0, unknown: 0 });
    expect(progress.at(-1)).toBe(1000);
    expect(lastStats).toEqual(report.stats);
    expect(batchRequests(emu)).toHaveLength(20);

    const stored = emu.portal.store.all();
    expect(stored).toHaveLength(1000);
    const tags = tagCounts(emu);
    expect([...tags.values()].every((n) => n === 1)).toBe(true);
    const entries = box.entries({ limit: 1000 });
    expect(entries.map((e) => e.params.TAG)).toEqual(ids.map((id) => box.tagOf(id)));
    // Each entry knows the portal's id of its notification, and it is the one with its tag.
    const byTag = new Map(stored.map((n) => [n.tag, n]));
    for (const e of entries) {
      const n = byTag.get(box.tagOf(e.id));
      expect(e.notificationId).toBe(n?.id);
      expect(n?.message).toBe(e.params.MESSAGE);
      expect(n?.authorId).toBe(e.method === 'im.notify.system.add' ? 0 : 1);
    }
  });

  test('a second delivery finds nothing to do; a new message goes out alone', async () => {
    emu = await emulator();
    const box = outbox();
    box.add(notifications(3));
    await box.deliver(client(emu));
    expect(await box.deliver(client(emu))).toMatchObject({ sent: 0, batches: 0 });
    box.add({ userId: 2, message: 'one more' });
    expect(await box.deliver(client(emu))).toMatchObject({ sent: 1, batches: 1 });
    expect(emu.portal.store.all()).toHaveLength(4);
  });

  test("the user's own tags, sub-tags, ATTACH and CLIENT_ID go through unchanged", async () => {
    emu = await emulator();
    const box = outbox();
    const [id] = box.add({
      userId: 3,
      message: 'Invoice 1042 paid',
      tag: 'invoice-1042',
      subTag: 'invoices',
      clientId: 'billing',
      attach: [{ MESSAGE: 'Amount: [B]120 EUR[/B]' }],
    });
    await box.deliver(client(emu));
    const [n] = emu.portal.store.all();
    expect(n).toMatchObject({ userId: 3, tag: 'invoice-1042', subTag: 'invoices', clientId: 'billing' });
    expect(n?.attach).toMatchObject({ blocks: [{ MESSAGE: 'Amount: [B]120 EUR[/B]' }] });
    expect(box.entries()[0]).toMatchObject({ id, state: 'sent', notificationId: n?.id });
  });

  test('the file and its journal are readable by their owner only', () => {
    const path = outboxPath();
    const box = outbox(path);
    box.add(notifications(1));
    for (const file of [path, `${path}-wal`]) expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  test('survives closing and reopening: what was queued is still there', async () => {
    emu = await emulator();
    const path = outboxPath();
    const first = openOutbox(path);
    first.add(notifications(120));
    const uid = first.id;
    first.close();
    const again = outbox(path);
    expect(again.id).toBe(uid);
    expect(again.stats().pending).toBe(120);
    expect(await again.deliver(client(emu))).toMatchObject({ sent: 120, batches: 3 });
  });
});

describe('bad input', () => {
  test('add is all or nothing, and the error names the message and the field', () => {
    const box = outbox();
    const bad = [
      { userId: 1, message: 'fine' },
      { userId: 1, message: 'fine too' },
      { userId: 0, message: 'no one' },
    ];
    expect(() => box.add(bad)).toThrow(B24ValidationError);
    expect(() => box.add(bad)).toThrow(/^notifications\[2\]\.userId: expected a positive integer/);
    expect(() => box.add({ userId: 1, message: '  ' })).toThrow(
      /^notification\.message: expected a non-empty string/,
    );
    // A JSON string, as from a file: checked as strictly as the builders' output.
    expect(() => box.add([{ userId: 1, message: 'x', attach: '[{"IMAGE": {"NAME": "no link"}}]' }])).toThrow(
      /^notifications\[0\]\.attach/,
    );
    expect(() => box.add([{ userId: 1, message: 'x', kind: 'loud' as 'system' }])).toThrow(
      /^notifications\[0\]\.kind/,
    );
    expect(() => box.add([null as unknown as { userId: number; message: string }])).toThrow(
      /^notifications\[0\]:/,
    );
    expect(box.stats().pending).toBe(0);
  });

  test('delivery options are checked before anything is claimed', async () => {
    emu = await emulator();
    const box = outbox();
    box.add(notifications(2));
    await expect(box.deliver(client(emu), { batchSize: 51 })).rejects.toThrow(
      /^batchSize: expected an integer from 1 to 50/,
    );
    await expect(box.deliver(client(emu), { concurrency: 0 })).rejects.toThrow(/^concurrency:/);
    await expect(box.deliver(client(emu), { maxAttempts: 1.5 })).rejects.toThrow(/^maxAttempts:/);
    expect(() => box.entries({ state: 'lost' as 'sent' })).toThrow(/^state: expected one of pending/);
    expect(box.stats().pending).toBe(2);
  });

  test('a path that cannot be an outbox says why and what to do', () => {
    const dir = tempDir();
    const cases: [string, RegExp][] = [
      [join(dir, 'no', 'such', 'folder.db'), /its folder does not exist: create the folder/],
      [dir, /that is a folder: pass the path of a file in it/],
    ];
    const notSqlite = join(dir, 'notes.txt');
    writeFileSync(notSqlite, 'these are my notes, not a database, and long enough to be read as a header');
    cases.push([notSqlite, /it is not an outbox file \(not SQLite\): pass another path/]);
    const newer = join(dir, 'newer.db');
    openOutbox(newer).close();
    tamper(newer, 'PRAGMA user_version = 99');
    cases.push([
      newer,
      /a newer @b24notify\/outbox wrote it \(schema 99, this one knows 1\): upgrade the package/,
    ]);
    for (const [path, why] of cases) {
      let error: unknown;
      try {
        openOutbox(path).close();
      } catch (err) {
        error = err;
      }
      expect(error, path).toBeInstanceOf(OutboxError);
      expect(error).toMatchObject({ code: 'FILE', message: expect.stringMatching(why) });
      expect((error as Error).message).toContain(path);
    }
    expect(readFileSync(notSqlite, 'utf8')).toMatch(/^these are my notes/);
  });

  test('a closed outbox says so', () => {
    const box = openOutbox(outboxPath());
    box.close();
    expect(() => box.add({ userId: 1, message: 'late' })).toThrow(OutboxError);
    expect(() => box.stats()).toThrow(/the outbox is closed/);
  });
});

describe('answers per message', () => {
  test('a message the portal refuses fails alone, with its error; the rest are sent', async () => {
    emu = await emulator();
    const path = outboxPath();
    const box = outbox(path);
    const ids = box.add(notifications(10));
    // A recipient the portal refuses (USER_ID_EMPTY): the check on adding would not let it in.
    tamper(path, "UPDATE messages SET params = json_set(params, '$.USER_ID', 0) WHERE id = ?", ids[4]);
    const report = await box.deliver(client(emu));
    expect(report).toMatchObject({ sent: 9, failed: 1, batches: 1 });
    const [failed] = box.entries({ state: 'failed' });
    expect(failed).toMatchObject({ id: ids[4], attempts: 1, error: { code: 'USER_ID_EMPTY' } });
    expect(emu.portal.store.all()).toHaveLength(9);

    // Fixed by hand and put back in line, it goes out.
    tamper(path, "UPDATE messages SET params = json_set(params, '$.USER_ID', 1) WHERE id = ?", ids[4]);
    expect(box.requeue('failed')).toBe(1);
    expect(await box.deliver(client(emu))).toMatchObject({ sent: 1 });
    expect(box.stats()).toMatchObject({ sent: 10, failed: 0 });
  });

  test('a lost answer (cut off mid-body after the portal created all 50) shows nothing twice', async () => {
    // The first batch is applied, then its answer is cut in half: the client cannot know.
    emu = await emulator({
      portal: { chaos: { rules: [{ method: 'batch', sequence: [{ type: 'truncate' }] }] } },
    });
    const box = outbox();
    box.add(notifications(100));
    const report = await box.deliver(client(emu, { retry: false }));
    expect(report.sent).toBe(100);
    // 150 were created in all: the first 50 twice. The second copy replaced the first.
    expect(Math.max(...emu.portal.store.all().map((n) => n.id))).toBeGreaterThanOrEqual(150);
    expect(emu.portal.store.all()).toHaveLength(100);
    expect([...tagCounts(emu).values()].every((n) => n === 1)).toBe(true);
  });

  test('untagged messages caught by a lost answer are never re-sent: they end unknown', async () => {
    emu = await emulator({
      portal: { chaos: { rules: [{ method: 'batch', sequence: [{ type: 'truncate' }] }] } },
    });
    const box = outbox(outboxPath(), { autoTag: false });
    box.add(notifications(60));
    const report = await box.deliver(client(emu, { retry: false }));
    expect(report).toMatchObject({ sent: 10, unknown: 50 });
    expect(emu.portal.store.all()).toHaveLength(60);
    const [first] = box.entries({ state: 'unknown' });
    expect(first?.error?.code).toMatch(/^B24/);
  });

  test('a refused connection puts the batch back in line; the next delivery sends it', async () => {
    emu = await emulator({
      portal: {
        chaos: { rules: [{ method: 'batch', sequence: [{ type: 'error', code: 'INTERNAL_SERVER_ERROR' }] }] },
      },
    });
    const box = outbox();
    box.add(notifications(5));
    // The 500 may have been applied; the messages are tagged, so sending again is safe.
    const report = await box.deliver(client(emu, { retry: false }), { waitForDue: false });
    expect(report).toMatchObject({ sent: 0, requeued: 5 });
    const [entry] = box.entries();
    expect(entry).toMatchObject({ state: 'pending', attempts: 1, error: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(entry?.notBefore).toBeGreaterThan(Date.now());
    // Due in a second: a waiting delivery picks it up.
    expect(await box.deliver(client(emu, { retry: false }))).toMatchObject({ sent: 5 });
    expect(emu.portal.store.all()).toHaveLength(5);
  });

  test('refused credentials stop the delivery with that error; nothing is lost', async () => {
    emu = await emulator();
    const box = outbox();
    box.add(notifications(120));
    const wrong = emu.webhookUrl.replace(/\/rest\/(\d+)\/[^/]+\//, '/rest/$1/wrongcode/');
    const bad = client(emu, { webhookUrl: wrong });
    await expect(box.deliver(bad, { concurrency: 1 })).rejects.toMatchObject({ name: 'B24AuthError' });
    expect(box.stats()).toMatchObject({ pending: 120, sending: 0 });
    expect(box.entries({ limit: 1 })[0]?.attempts).toBe(0);
    expect(await box.deliver(client(emu))).toMatchObject({ sent: 120 });
  });

  test('an unreachable portal stops the delivery at once; every message stays pending, attempts untouched', async () => {
    const gone = await emulator();
    const deadUrl = gone.webhookUrl;
    await gone.close();
    emu = await emulator();
    const box = outbox();
    box.add(notifications(120));
    // Nothing listens there any more: the connection is refused, the request never left.
    const unreachable = client(emu, { webhookUrl: deadUrl, retry: false });
    await expect(box.deliver(unreachable, { concurrency: 1 })).rejects.toMatchObject({
      name: 'B24NetworkError',
      code: 'ECONNREFUSED',
      delivery: 'not-delivered',
    });
    expect(box.stats()).toMatchObject({ pending: 120, sending: 0, failed: 0 });
    expect(box.entries({ limit: 200 }).every((e) => e.attempts === 0)).toBe(true);
    // Once the portal answers, the next delivery sends them all.
    expect(await box.deliver(client(emu))).toMatchObject({ sent: 120, failed: 0 });
  });
});

describe('one delivery at a time, and stopping', () => {
  test('a second delivery of the same file is refused while one runs', async () => {
    emu = await emulator({
      portal: { chaos: { rules: [{ method: 'batch', faults: [{ type: 'delay', ms: 200 }] }] } },
    });
    const path = outboxPath();
    const a = outbox(path);
    const b = outbox(path);
    a.add(notifications(100));
    const running = a.deliver(client(emu), { concurrency: 1 });
    await expect(b.deliver(client(emu))).rejects.toMatchObject({
      code: 'BUSY',
      message: /process \d+ on .* is delivering/,
    });
    await expect(a.deliver(client(emu))).rejects.toMatchObject({ code: 'BUSY' });
    expect(() => a.close()).toThrow(/a delivery is under way/);
    await running;
    expect(await b.deliver(client(emu))).toMatchObject({ sent: 0 });
  });

  test("a dead delivery's lock is taken over: its process ended, or it stopped beating", async () => {
    emu = await emulator();
    const path = outboxPath();
    const box = outbox(path);
    box.add(notifications(3));
    const lock = (pid: number, heartbeat: number, host = hostname()): void =>
      tamper(
        path,
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('delivery', ?)",
        JSON.stringify({ owner: 'someone-else', pid, host, heartbeat }),
      );
    // A live process (this one's parent) that beat just now holds it.
    lock(process.ppid, Date.now());
    await expect(box.deliver(client(emu))).rejects.toMatchObject({ code: 'BUSY' });
    // Another host, beating: busy too.
    lock(1, Date.now(), 'elsewhere');
    await expect(box.deliver(client(emu))).rejects.toMatchObject({ code: 'BUSY' });
    // A live pid whose holder has not beaten for a minute: its pid was reused, it is gone.
    lock(process.ppid, Date.now() - 60_000);
    expect(await box.deliver(client(emu))).toMatchObject({ sent: 3 });
    // A process that has ended, on this host: taken over at once.
    box.add(notifications(2));
    const ended = spawnSync(process.execPath, ['-e', '']).pid;
    lock(ended ?? 999_999, Date.now());
    expect(await box.deliver(client(emu))).toMatchObject({ sent: 2 });
  });

  test('stopping ends the delivery; the next one finishes it with nothing twice', async () => {
    emu = await emulator({
      portal: { chaos: { rules: [{ method: 'batch', faults: [{ type: 'delay', ms: 50 }] }] } },
    });
    const box = outbox();
    box.add(notifications(500));
    const stop = new AbortController();
    const report = await box.deliver(client(emu), {
      concurrency: 2,
      signal: stop.signal,
      onProgress: (p) => {
        if (p.batches === 3) stop.abort();
      },
    });
    expect(report.aborted).toBe(true);
    expect(report.sent).toBeGreaterThanOrEqual(150);
    expect(report.sent).toBeLessThan(500);
    expect(box.stats().sending).toBe(0);
    const rest = await box.deliver(client(emu));
    expect(report.sent + rest.sent).toBe(500);
    expect(emu.portal.store.all()).toHaveLength(500);
    expect([...tagCounts(emu).values()].every((n) => n === 1)).toBe(true);
  });

  test('messages a dead delivery left mid-send: tagged ones go again, untagged ones are unknown', async () => {
    emu = await emulator();
    const path = outboxPath();
    const box = outbox(path);
    box.add(notifications(50));
    await box.deliver(client(emu));
    // As a crash after the request and before the answer was recorded would leave them.
    tamper(path, "UPDATE messages SET state = 'sending' WHERE id <= 20");
    const untaggedPath = outboxPath();
    const plain = outbox(untaggedPath, { autoTag: false });
    plain.add(notifications(5));
    tamper(untaggedPath, "UPDATE messages SET state = 'sending'");

    const report = await box.deliver(client(emu));
    expect(report.recovered).toEqual({ requeued: 20, unknown: 0 });
    expect(report.sent).toBe(20);
    expect(emu.portal.store.all()).toHaveLength(50);
    expect([...tagCounts(emu).values()].every((n) => n === 1)).toBe(true);

    const plainReport = await plain.deliver(client(emu));
    expect(plainReport.recovered).toEqual({ requeued: 0, unknown: 5 });
    expect(plain.stats()).toMatchObject({ unknown: 5, sent: 0 });
    expect(plain.entries({ state: 'unknown' })[0]?.error?.code).toBe('DELIVERY_UNKNOWN');
  });
});
