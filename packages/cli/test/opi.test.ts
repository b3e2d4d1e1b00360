/**
 * OPI's command form with the seeds' examples as written (`oint` replaced by `b24notify`; the
 * portal, token and placeholders `%tag%`/`%blocks%` replaced by the emulator's and real values).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningEmulator } from '@b24notify/emulator';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { emulator, json, run, sandbox, webhookCode } from './support.js';

const IMAGE =
  'https://raw.githubusercontent.com/Bayselonarrend/OpenIntegrations/main/service/test_data/picture.jpg';
const FILE = 'https://github.com/Bayselonarrend/OpenIntegrations/raw/main/service/test_data/document.docx';
/** The seed's Attachments: GetPictureBlock("Image1", Image), GetFileBlock("File1.docx", File). */
const BLOCKS = [{ IMAGE: { NAME: 'Image1', LINK: IMAGE } }, { FILE: { NAME: 'File1.docx', LINK: FILE } }];

let emu: RunningEmulator;
let tls: RunningEmulator;
const box = sandbox();
const blocksFile = join(box.dir, 'blocks.json');

beforeAll(async () => {
  [emu, tls] = await Promise.all([
    emulator(),
    emulator({
      https: true,
      ...(process.env.B24NOTIFY_TEST_TLS_DIR ? { tlsDir: process.env.B24NOTIFY_TEST_TLS_DIR } : {}),
    }),
  ]);
  writeFileSync(blocksFile, JSON.stringify(BLOCKS));
});
afterAll(() => Promise.all([emu.close(), tls.close()]));

function sentAttach(portal: RunningEmulator, id: number): unknown {
  const requestId = portal.portal.store.getNotification(id)?.requestId;
  const entry = requestId === undefined || requestId === null ? undefined : portal.portal.log.get(requestId);
  return (entry?.params as { ATTACH?: unknown } | undefined)?.ATTACH;
}

describe('b24notify bitrix24 (OPI form)', () => {
  test("the seed's webhook form, --blocks as inline JSON and as a file path", async () => {
    // oint bitrix24 CreatePersonalNotification --url %url% --user %user% --text %text% --blocks %blocks%
    const create = (blocks: string) =>
      run(
        [
          'bitrix24',
          'CreatePersonalNotification',
          '--url',
          emu.webhookUrl,
          '--user',
          '1',
          '--text',
          'Message text',
          '--blocks',
          blocks,
        ],
        { env: box.env },
      );
    const [inline, file] = await Promise.all([create(JSON.stringify(BLOCKS)), create(blocksFile)]);
    for (const r of [inline, file]) {
      expect(r.code, r.stderr).toBe(0);
      // OPI prints Bitrix24's answer as indented JSON.
      expect(r.stdout).toMatch(/^\{\n {2}"result": \d+,\n {2}"time": \{/);
      const { result } = json<{ result: number }>(r);
      expect(sentAttach(emu, result)).toEqual(BLOCKS);
      expect(emu.portal.store.getNotification(result)).toMatchObject({ userId: 1, message: 'Message text' });
    }
  });

  test("the seed's domain + --token + --tag form, over HTTPS, as written", async () => {
    // oint bitrix24 CreatePersonalNotification --url "b24-ar17wx.bitrix24.by" --user "10"
    //   --text "Message text" --tag %tag% --blocks %blocks% --token "fe3fa966006e9f..."
    const r = await run(
      [
        'bitrix24',
        'CreatePersonalNotification',
        '--url',
        tls.domain,
        '--user',
        '10',
        '--text',
        'Message text',
        '--tag',
        'New',
        '--blocks',
        blocksFile,
        '--token',
        tls.tokens.accessToken,
      ],
      { env: { ...box.env, NODE_EXTRA_CA_CERTS: tls.caCertPath ?? '' } },
    );
    expect(r.code, r.stderr).toBe(0);
    const { result } = json<{ result: number }>(r);
    expect(tls.portal.store.getNotification(result)).toMatchObject({ userId: 10, tag: 'New', authorId: 1 });
    expect(r.all).not.toContain(tls.tokens.accessToken);
  });

  test('short forms, Russian names, system notifications, delete by --notif or --id, the block builders', async () => {
    const created = await run(
      [
        'bitrix24',
        'СоздатьСистемноеУведомление',
        '-u',
        emu.webhookUrl,
        '-s',
        '1',
        '-t',
        'Текст',
        '-g',
        'g1',
        '-b',
        blocksFile,
      ],
      { env: box.env },
    );
    expect(created.code, created.stderr).toBe(0);
    const id = json<{ result: number }>(created).result;
    expect(emu.portal.store.getNotification(id)).toMatchObject({ type: 'system', userId: 1, tag: 'g1' });
    const other = json<{ result: number }>(
      await run(['bitrix24', 'createpersonalnotification', '-u', emu.webhookUrl, '-s', '1', '-t', 'x'], {
        env: box.env,
      }),
    ).result;

    const [byNotif, byId, picture, file, russianPicture] = await Promise.all([
      run(['bitrix24', 'DeleteNotification', '--url', emu.webhookUrl, '--notif', String(id)], {
        env: box.env,
      }),
      run(['bitrix24', 'УдалитьУведомление', '--url', emu.webhookUrl, '--id', String(other)], {
        env: box.env,
      }),
      run(['bitrix24', 'GetPictureBlock', '--title', 'Image1', '--url', IMAGE], { env: box.env }),
      run(['bitrix24', 'GetFileBlock', '--title', 'File1.docx', '--url', FILE], { env: box.env }),
      run(['bitrix24', 'ПолучитьБлокКартинки', '--title', 'Картинка1', '-u', IMAGE], { env: box.env }),
    ]);
    expect(json(byNotif)).toMatchObject({ result: true });
    expect(json(byId)).toMatchObject({ result: true });
    expect(emu.portal.store.getNotification(id)).toBeUndefined();
    expect(json(picture)).toEqual(BLOCKS[0]);
    expect(json(file)).toEqual(BLOCKS[1]);
    expect(json(russianPicture)).toEqual({ IMAGE: { NAME: 'Картинка1', LINK: IMAGE } });
  });

  test('--debug prints the parameters masked, --test runs nothing, --out writes the result', async () => {
    const before = emu.portal.store.all().length;
    const out = join(box.dir, 'result.json');
    const args = [
      'bitrix24',
      'CreatePersonalNotification',
      '--url',
      emu.webhookUrl,
      '--user',
      '1',
      '--text',
      'Message text',
    ];
    const [debug, dry, toFile] = await Promise.all([
      run([...args, '--debug'], { env: box.env }),
      run([...args, '--blocks', blocksFile, '--test'], { env: box.env }),
      run([...args, '--out', out], { env: box.env }),
    ]);
    expect(debug.code).toBe(0);
    expect(debug.stderr).toContain('debug: bitrix24 CreatePersonalNotification {"URL":"http://127.0.0.1:');
    expect(debug.stderr).toContain('/rest/1/***/"');
    expect(json(debug)).toHaveProperty('result');
    expect(dry.code).toBe(0);
    expect(json(dry)).toMatchObject({
      test: true,
      method: 'CreatePersonalNotification',
      parameters: { UserID: 1, Text: 'Message text', Attachments: BLOCKS },
      request: {
        method: 'im.notify.personal.add',
        body: { USER_ID: 1, MESSAGE: 'Message text', ATTACH: BLOCKS },
      },
    });
    expect(toFile.stdout).toBe('');
    expect(JSON.parse(readFileSync(out, 'utf8'))).toHaveProperty('result');
    // Two sent (debug and out), the test run sent nothing.
    expect(emu.portal.store.all().length).toBe(before + 2);
    for (const r of [debug, dry, toFile]) expect(r.all).not.toContain(webhookCode(emu));
  });

  test('an error answer is printed as data and exits 0, as OPI does', async () => {
    const r = await run(
      [
        'bitrix24',
        'CreatePersonalNotification',
        '--url',
        `${emu.url}/rest/1/wrongcode/`,
        '--user',
        '1',
        '--text',
        'x',
      ],
      { env: box.env },
    );
    expect(r.code).toBe(0);
    expect(json(r)).toEqual({ error: 'INVALID_CREDENTIALS', error_description: expect.any(String) });
  });

  test("OPI's exit codes: 1 unknown command, 2 unknown method or bad options, 99 unexpected", async () => {
    const url = ['--url', emu.webhookUrl];
    const results = await Promise.all([
      run(['telegram', 'SendTextMessage', '--text', 'x'], { env: box.env }),
      run(['bitrix24', 'CreatePersonalNotificaton', ...url], { env: box.env }),
      run(['bitrix24', 'CreatePersonalNotification', ...url, '--user', 'ten', '--text', 'x'], {
        env: box.env,
      }),
      run(
        ['bitrix24', 'CreatePersonalNotification', ...url, '--user', '1', '--text', 'x', '--blocks', '[{'],
        {
          env: box.env,
        },
      ),
      run(
        [
          'bitrix24',
          'CreatePersonalNotification',
          ...url,
          '--user',
          '1',
          '--text',
          'x',
          '--blocks',
          'nope.json',
        ],
        {
          env: box.env,
        },
      ),
      run(['bitrix24', 'CreatePersonalNotification', ...url, '--text', 'x'], { env: box.env }),
      run(['bitrix24', 'CreatePersonalNotification', ...url, '--user', '1', '--text', 'x', '--colour'], {
        env: box.env,
      }),
      run(
        [
          'bitrix24',
          'GetPictureBlock',
          '--title',
          'x',
          '--url',
          IMAGE,
          '--out',
          join(box.dir, 'no', 'dir', 'x'),
        ],
        {
          env: box.env,
        },
      ),
    ]);
    const expected: [number, string][] = [
      [1, 'b24notify: unknown command "telegram"'],
      [
        2,
        'b24notify bitrix24: unknown method "CreatePersonalNotificaton" (did you mean CreatePersonalNotification?)',
      ],
      [2, '--user: expected a positive integer, got "ten"'],
      [2, '--blocks: not valid JSON'],
      [2, '--blocks: expected inline JSON or a JSON file, got "nope.json"'],
      [2, '--user is required'],
      [2, 'unknown option --colour'],
      [2, 'cannot be written: no such directory'],
    ];
    results.forEach((r, i) => {
      const [code, message] = expected[i] as [number, string];
      expect(r.code, r.stderr).toBe(code);
      expect(r.stderr).toContain(message);
    });
    // Bad input is one line.
    for (const r of results.slice(0, 8)) expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  test('--url may be left out: the credentials come from the environment', async () => {
    const r = await run(['bitrix24', 'CreatePersonalNotification', '--user', '1', '--text', 'from env'], {
      env: { ...box.env, B24_WEBHOOK_URL: emu.webhookUrl },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(emu.portal.store.getNotification(json<{ result: number }>(r).result)?.message).toBe('from env');
  });

  test('help for the form and for each method', async () => {
    const [all, method, russian] = await Promise.all([
      run(['bitrix24', '--help']),
      run(['bitrix24', 'DeleteNotification', '--help']),
      run(['bitrix24', 'ПолучитьБлокФайла', '--help']),
    ]);
    expect(all.code).toBe(0);
    expect(all.stdout).toContain('CreatePersonalNotification');
    expect(all.stdout).toContain('СоздатьПерсональноеУведомление');
    expect(all.stdout).toContain('Examples:');
    expect(method.stdout).toContain('--notif ID');
    expect(method.stdout).toContain('Calls im.notify.delete');
    expect(russian.stdout).toContain('--title NAME');
  });
});
