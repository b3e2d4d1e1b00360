import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningEmulator } from '@b24notify/emulator';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from '../src/main.js';
import { emulator, json, run, sandbox } from './support.js';

let emu: RunningEmulator;
const box = sandbox();
let env: Record<string, string>;

beforeAll(async () => {
  emu = await emulator();
  env = { ...box.env, B24_WEBHOOK_URL: emu.webhookUrl };
});
afterAll(() => emu.close());

function stored(id: number) {
  const n = emu.portal.store.getNotification(id);
  if (!n) throw new Error(`notification ${id} is not stored`);
  return n;
}

/** The ATTACH as it went over the wire (the store keeps a normalized form). */
function sentAttach(id: number): unknown {
  const requestId = stored(id).requestId;
  const entry = requestId === null ? undefined : emu.portal.log.get(requestId);
  return (entry?.params as { ATTACH?: unknown } | undefined)?.ATTACH;
}

describe('b24notify send', () => {
  test('sends a personal notification with every field, and a system one', async () => {
    const [personal, system] = await Promise.all([
      run(
        [
          'send',
          '--user',
          '5',
          '--text',
          'Invoice [B]#1042[/B] was paid',
          '--text-out',
          'Invoice 1042 was paid',
          '--tag',
          'invoice-1042',
          '--sub-tag',
          'invoices',
          '--client-id',
          'billing',
        ],
        { env },
      ),
      run(['send', '--system', '--user', '10', '--text', 'Disk almost full'], { env }),
    ]);
    expect(personal.code, personal.stderr).toBe(0);
    const answer = json<{ result: number; time: { operating: number } }>(personal);
    expect(answer.time).toHaveProperty('operating');
    expect(stored(answer.result)).toMatchObject({
      userId: 5,
      authorId: 1,
      type: 'personal',
      message: 'Invoice [B]#1042[/B] was paid',
      messageOut: 'Invoice 1042 was paid',
      tag: 'invoice-1042',
      subTag: 'invoices',
      clientId: 'billing',
    });
    expect(system.code, system.stderr).toBe(0);
    expect(stored(json<{ result: number }>(system).result)).toMatchObject({
      type: 'system',
      authorId: 0,
      userId: 10,
    });
  });

  test('builds ATTACH from --attach (inline, @file, path) and the block shorthands, in order', async () => {
    const dir = join(box.dir, 'attach');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'attach.json'), JSON.stringify([{ MESSAGE: 'from a file' }]));
    const shorthands = [
      '--message',
      'Deploy [B]failed[/B]',
      '--image',
      'Graph=https://ci.example.com/graph.png',
      '--file',
      'log.txt=https://ci.example.com/log.txt?run=981',
      '--link',
      'https://ci.example.com/runs/981',
    ];
    const [inline, atFile, path, full] = await Promise.all([
      run(['send', '--user', '1', '--text', 'a', '--attach', '[{"MESSAGE":"inline"}]', ...shorthands], {
        env,
      }),
      run(['send', '--user', '1', '--text', 'b', '--attach', '@attach.json'], { env, cwd: dir }),
      run(['send', '--user', '1', '--text', 'c', '--attach', 'attach.json'], { env, cwd: dir }),
      run(
        [
          'send',
          '--user',
          '1',
          '--text',
          'd',
          '--attach',
          '{"COLOR_TOKEN":"alert","BLOCKS":[]}',
          '--message',
          'm',
        ],
        { env },
      ),
    ]);
    for (const r of [inline, atFile, path, full]) expect(r.code, r.stderr).toBe(0);
    expect(sentAttach(json<{ result: number }>(inline).result)).toEqual([
      { MESSAGE: 'inline' },
      { MESSAGE: 'Deploy [B]failed[/B]' },
      { IMAGE: { LINK: 'https://ci.example.com/graph.png', NAME: 'Graph' } },
      { FILE: { LINK: 'https://ci.example.com/log.txt?run=981', NAME: 'log.txt' } },
      { LINK: { LINK: 'https://ci.example.com/runs/981' } },
    ]);
    expect(sentAttach(json<{ result: number }>(atFile).result)).toEqual([{ MESSAGE: 'from a file' }]);
    expect(sentAttach(json<{ result: number }>(path).result)).toEqual([{ MESSAGE: 'from a file' }]);
    expect(sentAttach(json<{ result: number }>(full).result)).toEqual({
      COLOR_TOKEN: 'alert',
      BLOCKS: [{ MESSAGE: 'm' }],
    });
  });

  test('reads the text from stdin with --text -', async () => {
    const r = await run(['send', '--user', '1', '--text', '-', '--quiet'], { env, input: 'from stdin\n' });
    expect(r.code, r.stderr).toBe(0);
    expect(stored(Number(r.stdout)).message).toBe('from stdin');
  });

  test('output: compact when piped, --pretty, --json, --quiet, --out', async () => {
    const out = join(box.dir, 'answer.json');
    const [piped, pretty, compact, quiet, toFile] = await Promise.all([
      run(['send', '--user', '1', '--text', 'x'], { env }),
      run(['send', '--user', '1', '--text', 'x', '--pretty'], { env }),
      run(['send', '--user', '1', '--text', 'x', '--json'], { env }),
      run(['send', '--user', '1', '--text', 'x', '-q'], { env }),
      run(['send', '--user', '1', '--text', 'x', '--out', out], { env }),
    ]);
    expect(piped.stdout.trim().split('\n')).toHaveLength(1);
    expect(piped.stdout).toMatch(/^\{"result":\d+,"time":\{/);
    expect(pretty.stdout).toMatch(/^\{\n {2}"result": \d+,\n {2}"time": \{\n/);
    expect(compact.stdout).toMatch(/^\{"result":\d+,/);
    expect(quiet.stdout).toMatch(/^\d+\n$/);
    expect(toFile.stdout).toBe('');
    expect(JSON.parse(readFileSync(out, 'utf8'))).toHaveProperty('result');
    expect(readFileSync(out, 'utf8')).toContain('\n  "time": {');
  });

  test('pretty JSON on a terminal (run programmatically with a TTY stdout)', async () => {
    let stdout = '';
    let stderr = '';
    const code = await runCli(['send', '--user', '1', '--text', 'on a terminal'], {
      stdout: { write: (t: string) => (stdout += t), isTTY: true },
      stderr: { write: (t: string) => (stderr += t) },
      env,
      cwd: box.dir,
    });
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^\{\n {2}"result": \d+,/);
  });

  test('--test prints the request and sends nothing; bad input never reaches the portal', async () => {
    const before = emu.portal.store.all().length;
    const [dry, badUser, badJson, missing, unknown, badBlock, noText] = await Promise.all([
      run(
        [
          'send',
          '--user',
          '1',
          '--text',
          'dry run',
          '--tag',
          't',
          '--image',
          'https://e.com/p.png',
          '--test',
        ],
        { env },
      ),
      run(['send', '--user', 'abc', '--text', 'x'], { env }),
      run(['send', '--user', '1', '--text', 'x', '--attach', '[{"MESSAGE":'], { env }),
      run(['send', '--user', '1', '--text', 'x', '--attach', '@no-such.json'], { env }),
      run(['send', '--user', '1', '--text', 'x', '--colour', 'red'], { env }),
      run(['send', '--user', '1', '--text', 'x', '--attach', '[{"IMAGE":{"NAME":"no link"}}]'], { env }),
      run(['send', '--user', '1'], { env }),
    ]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(json(dry)).toMatchObject({
      test: true,
      request: {
        method: 'im.notify.personal.add',
        body: {
          USER_ID: 1,
          MESSAGE: 'dry run',
          TAG: 't',
          ATTACH: [{ IMAGE: { LINK: 'https://e.com/p.png' } }],
        },
      },
    });
    for (const [r, message] of [
      [badUser, 'b24notify send: --user: expected a positive integer, got "abc".'],
      [badJson, 'b24notify send: --attach: not valid JSON'],
      [missing, 'b24notify send: --attach: cannot read "no-such.json": no such file.'],
      [unknown, 'b24notify send: unknown option --colour.'],
      [badBlock, 'b24notify send: attach[0].IMAGE.LINK: is required'],
      [noText, 'b24notify send: --text is required.'],
    ] as const) {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).toContain(message);
      expect(r.stdout).toBe('');
    }
    expect(emu.portal.store.all().length).toBe(before);
  });
});
