/** `b24notify outbox`: the built binary against the emulator, as a script would use it. */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningEmulator } from '@b24notify/emulator';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BIN, emulator, json, run, sandbox, webhookCode } from './support.js';

let emu: RunningEmulator;
let slow: RunningEmulator;
const box = sandbox();
let env: Record<string, string>;

beforeAll(async () => {
  emu = await emulator();
  // Each batch takes a while here, so a delivery can be stopped half-way.
  slow = await emulator({
    portal: { chaos: { rules: [{ method: 'batch', faults: [{ type: 'delay', ms: 150 }] }] } },
  });
  env = { ...box.env, B24_WEBHOOK_URL: emu.webhookUrl };
});
afterAll(async () => {
  await emu.close();
  await slow.close();
});

let files = 0;
/** A file in the sandbox with `text` in it; returns its path. */
function file(text: string, name = `in-${++files}.jsonl`): string {
  const path = join(box.dir, name);
  writeFileSync(path, text);
  return path;
}

/** A fresh outbox file path. */
function db(): string {
  return join(box.dir, `outbox-${++files}.db`);
}

const USERS = [1, 2, 3, 5, 10];
function lines(n: number, text = 'bulk'): string {
  return Array.from({ length: n }, (_, i) =>
    JSON.stringify({ userId: USERS[i % 5], message: `${text} ${i}` }),
  ).join('\n');
}

describe('b24notify outbox', () => {
  test('add a JSON Lines file and a JSON array from stdin, deliver, and every message arrives once', async () => {
    const path = db();
    const before = emu.portal.store.all().length;
    const added = await run(
      ['outbox', 'add', file(`\uFEFF# header comment\n${lines(120)}\n\n`), '--db', path, '--json'],
      {
        env,
      },
    );
    expect(added.code, added.stderr).toBe(0);
    expect(json(added)).toMatchObject({ queued: 120, firstId: 1, lastId: 120 });
    const fromStdin = await run(['outbox', 'add', '-', '--system', '--db', path, '-q'], {
      env,
      input: JSON.stringify([
        { userId: 2, message: 'from stdin' },
        { userId: 3, message: 'me too', kind: 'personal' },
      ]),
    });
    expect(fromStdin.stdout).toBe('2\n');

    const delivered = await run(['outbox', 'deliver', '--db', path, '--json', '--progress'], { env });
    expect(delivered.code, delivered.stderr).toBe(0);
    expect(json(delivered)).toMatchObject({ sent: 122, failed: 0, batches: 3 });
    expect(delivered.stderr).toContain('outbox: 122 sent, 0 to go, 0 failed (3 batches)');
    const stored = emu.portal.store.all().slice(before);
    expect(stored).toHaveLength(122);
    expect(stored.find((n) => n.message === 'from stdin')?.authorId).toBe(0);
    expect(stored.find((n) => n.message === 'me too')?.authorId).toBe(1);

    const status = await run(['outbox', 'status', '--db', path, '--json'], { env });
    expect(json(status)).toEqual({ pending: 0, sending: 0, sent: 122, failed: 0, unknown: 0 });
    const again = await run(['outbox', 'deliver', '--db', path, '-q'], { env });
    expect(again.stdout).toBe('0\n');
  });

  test('the file is $B24NOTIFY_OUTBOX, else b24notify-outbox.db in the working directory', async () => {
    const path = db();
    await run(['outbox', 'add', file(lines(3))], { env: { ...env, B24NOTIFY_OUTBOX: path } });
    expect(json(await run(['outbox', 'status', '--db', path, '--json'], { env }))).toMatchObject({
      pending: 3,
    });
    const cwd = join(box.dir);
    await run(['outbox', 'add', file(lines(2))], { env, cwd });
    expect(json(await run(['outbox', 'status', '--json'], { env, cwd }))).toMatchObject({ pending: 2 });
    expect(
      json(await run(['outbox', 'status', '--db', join(cwd, 'b24notify-outbox.db'), '--json'], { env })),
    ).toMatchObject({ pending: 2 });
  });

  test('bad input: one clear line naming where, exit 2, nothing queued', async () => {
    const path = db();
    const cases: [string[], RegExp][] = [
      [
        ['outbox', 'add', file(`${lines(2)}\n{"userId": 0, "message": "x"}`)],
        /: line 3: userId: expected a positive integer, got 0/,
      ],
      [['outbox', 'add', file(`${lines(1)}\n{"userId": 1,`)], /: line 2: not valid JSON/],
      [
        ['outbox', 'add', file('[{"userId": 1, "message": "x"}, 5]', 'arr.json')],
        /arr\.json: item 1: expected an object/,
      ],
      [
        ['outbox', 'add', file('[{"userId": 1, "message": "  "}]', 'empty.json')],
        /empty\.json: item 0: message: expected a non-empty string/,
      ],
      [['outbox', 'add', join(box.dir, 'missing.jsonl')], /missing\.jsonl: cannot read it \(ENOENT\)/],
      [['outbox', 'add'], /name one file of notifications/],
      [['outbox', 'send'], /unknown action "send": expected add, deliver, status, list, requeue/],
      [['outbox', 'list', '--state', 'lost'], /--state: expected one of pending/],
      [['outbox', 'requeue'], /--state failed or --state unknown/],
      [['outbox', 'deliver', '--plan', 'gold'], /--plan: expected standard or enterprise, got "gold"/],
      [['outbox', 'deliver', '--batch-size', '51'], /--batch-size: expected a whole number from 1 to 50/],
      [['outbox', 'status', '--db', join(box.dir, 'no', 'x.db')], /no[/\\]x\.db: its folder does not exist/],
      [['outbox', 'status', '--db', box.dir], /that is a folder: pass the path of a file in it/],
    ];
    for (const [args, message] of cases) {
      const r = await run(args.includes('--db') ? args : [...args, '--db', path], { env });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stdout).toBe('');
    }
    expect(json(await run(['outbox', 'status', '--db', path, '--json'], { env }))).toMatchObject({
      pending: 0,
    });
  });

  test('a refused message: exit 3, listed with its error, requeued by id', async () => {
    const path = db();
    // User 4 does not exist on the emulator: the portal answers false, creating nothing.
    await run(['outbox', 'add', file(`${lines(4)}\n{"userId": 4, "message": "nobody"}`), '--db', path], {
      env,
    });
    const r = await run(['outbox', 'deliver', '--db', path, '--json'], { env });
    expect(r.code).toBe(3);
    expect(json(r)).toMatchObject({ sent: 4, failed: 1 });
    expect(r.stderr).toContain('1 failed, 0 unknown of 5');
    const failed = json<{ id: number; error: { code: string } }[]>(
      await run(['outbox', 'list', '--state', 'failed', '--db', path, '--json'], { env }),
    );
    expect(failed).toMatchObject([{ id: 5, state: 'failed', error: { code: 'NOT_CREATED' } }]);
    const requeued = await run(['outbox', 'requeue', '--state', 'failed', '--id', '5', '--db', path, '-q'], {
      env,
    });
    expect(requeued.stdout).toBe('1\n');
    expect(json(await run(['outbox', 'status', '--db', path, '--json'], { env }))).toMatchObject({
      pending: 1,
      failed: 0,
    });
  });

  test('an unreachable portal: exit 6 at once, what to do, every message still pending', async () => {
    const path = db();
    await run(['outbox', 'add', file(lines(2)), '--db', path], { env });
    // Port 9 (discard) on loopback: nothing listens, the connection is refused.
    const dead = { ...env, B24_WEBHOOK_URL: 'http://127.0.0.1:9/rest/1/abcdef/' };
    const r = await run(['outbox', 'deliver', '--db', path, '--retries', '0'], { env: dead });
    expect(r.code, r.stderr).toBe(6);
    expect(r.stderr).toContain('Nothing answers at 127.0.0.1:9');
    expect(r.stderr).toContain('to do:    Check the address and port.');
    expect(json(await run(['outbox', 'status', '--db', path, '--json'], { env }))).toMatchObject({
      pending: 2,
      failed: 0,
    });
    const [entry] = json<{ attempts: number }[]>(
      await run(['outbox', 'list', '--db', path, '--json'], { env }),
    );
    expect(entry?.attempts).toBe(0);
  });

  test('refused credentials: exit 4, the webhook code never printed, every message still queued', async () => {
    const path = db();
    await run(['outbox', 'add', file(lines(60)), '--db', path], { env });
    const wrong = emu.webhookUrl.replace(webhookCode(emu), 'notthecode123');
    const r = await run(['outbox', 'deliver', '--db', path, '--webhook', wrong, '--debug'], { env });
    expect(r.code).toBe(4);
    expect(r.all).not.toContain('notthecode123');
    expect(r.all).not.toContain(webhookCode(emu));
    expect(json(await run(['outbox', 'status', '--db', path, '--json'], { env }))).toMatchObject({
      pending: 60,
      sending: 0,
    });
  });

  test('Ctrl+C stops a delivery with exit 130; the next deliver finishes it, nothing twice', async () => {
    const path = db();
    const slowEnv = { ...env, B24_WEBHOOK_URL: slow.webhookUrl };
    await run(['outbox', 'add', file(lines(1000)), '--db', path], { env: slowEnv });
    const child = spawn(
      process.execPath,
      [BIN, 'outbox', 'deliver', '--db', path, '--progress', '--concurrency', '1'],
      {
        env: { PATH: process.env.PATH ?? '', ...slowEnv },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('(2 batches)') && !child.killed) child.kill('SIGINT');
    });
    const code = await new Promise((resolve) => child.once('close', resolve));
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/outbox: stopped; \d+ messages stay queued: run deliver again to go on/);
    const rest = await run(['outbox', 'deliver', '--db', path, '--json'], { env: slowEnv });
    expect(rest.code, rest.stderr).toBe(0);
    expect(json(await run(['outbox', 'status', '--db', path, '--json'], { env }))).toMatchObject({
      sent: 1000,
    });
    const tags = slow.portal.store.all().map((n) => n.tag);
    expect(tags).toHaveLength(1000);
    expect(new Set(tags).size).toBe(1000);
  });
});
