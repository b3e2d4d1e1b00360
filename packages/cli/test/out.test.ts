/**
 * `--out FILE`: checked before anything is sent, so an unwritable path never costs a call; and
 * when writing still fails after the call, the report says the notification WAS delivered, so
 * the natural retry does not send it twice.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningEmulator } from '@b24notify/emulator';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { emulator, run, sandbox } from './support.js';

let emu: RunningEmulator;
const box = sandbox();
let env: Record<string, string>;

beforeAll(async () => {
  emu = await emulator();
  env = { ...box.env, B24_WEBHOOK_URL: emu.webhookUrl };
});
afterAll(() => emu.close());

/** Notifications stored with this text: how many times a send reached the portal. */
function copies(text: string): number {
  return emu.portal.store.all().filter((n) => n.message === text).length;
}

describe('--out', () => {
  test('an unwritable path is refused before sending: exit 2, nothing sent', async () => {
    const file = join(box.dir, 'a-file');
    writeFileSync(file, 'x');
    const folder = join(box.dir, 'a-folder');
    mkdirSync(folder);
    const cases: [string, string][] = [
      [join(box.dir, 'missing', 'answer.json'), 'no such directory (ENOENT)'],
      [join(file, 'answer.json'), 'a part of the path is a file, not a directory (ENOTDIR)'],
      [folder, 'it is a directory; give a file name'],
    ];
    const results = await Promise.all(
      cases.map(([out], i) => run(['send', '--user', '1', '--text', `refused ${i}`, '--out', out], { env })),
    );
    results.forEach((r, i) => {
      const [out, reason] = cases[i] as [string, string];
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toBe(
        `b24notify send: --out ${out}: cannot be written: ${reason}. See 'b24notify send --help'.\n`,
      );
      expect(copies(`refused ${i}`)).toBe(0);
    });

    // The same check in OPI's form.
    const opi = await run(
      [
        'bitrix24',
        'CreatePersonalNotification',
        '--user',
        '1',
        '--text',
        'refused opi',
        '--out',
        cases[0]?.[0] as string,
      ],
      { env },
    );
    expect(opi.code).toBe(2);
    expect(opi.stderr).toContain('cannot be written: no such directory');
    expect(copies('refused opi')).toBe(0);
  });

  test.skipIf(!existsSync('/dev/full'))(
    'writing fails after the call: exit 7, says it WAS delivered with the id, answer on stdout',
    async () => {
      // /dev/full takes the open and refuses the write (ENOSPC): a disk that filled up meanwhile.
      const r = await run(['send', '--user', '1', '--text', 'delivered once', '--out', '/dev/full'], {
        env,
      });
      expect(r.code, r.stderr).toBe(7);
      const [stored] = emu.portal.store.all().filter((n) => n.message === 'delivered once');
      expect(stored).toBeDefined();
      const id = stored?.id as number;
      expect(r.stderr).toContain(
        `b24notify send: notification ${id} WAS delivered, but --out /dev/full could not be written: ` +
          'no space left on the device (ENOSPC)',
      );
      expect(r.stderr).toContain('Do not run it again');
      expect(JSON.parse(r.stdout)).toMatchObject({ result: id });
      expect(copies('delivered once')).toBe(1);

      const opi = await run(
        ['bitrix24', 'CreatePersonalNotification', '--user', '1', '--text', 'opi once', '--out', '/dev/full'],
        { env },
      );
      expect(opi.code, opi.stderr).toBe(7);
      expect(opi.stderr).toMatch(
        /notification \d+ WAS delivered, but --out \/dev\/full could not be written/,
      );
      expect(copies('opi once')).toBe(1);
    },
  );
});
