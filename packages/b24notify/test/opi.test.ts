import { afterEach, describe, expect, test } from 'vitest';
import * as opiModule from '../src/opi.js';
import { createOpi, type Opi } from '../src/opi.js';
import { startPortal, TRANSPORTS, type TestPortal } from './support/portal.js';

// The seeds' example values (OPI's CreatePersonalNotification docs).
const Text = 'Message text';
const Image =
  'https://raw.githubusercontent.com/Bayselonarrend/OpenIntegrations/main/service/test_data/picture.jpg';
const File = 'https://github.com/Bayselonarrend/OpenIntegrations/raw/main/service/test_data/document.docx';

interface LogEntry {
  method: string;
  transport: string;
  params: Record<string, unknown>;
}

interface Stored {
  id: number;
  userId: number;
  authorId: number;
  message: string;
  tag: string | null;
  attach: unknown;
}

describe.each(TRANSPORTS)('the OPI layer over %s', (transport) => {
  let p: TestPortal;
  let opi: Opi;
  /** The portal as OPI's token form names it: a bare domain means https, loopback http is kept. */
  let domain: string;
  afterEach(() => p.close());

  async function start(): Promise<void> {
    p = await startPortal(transport);
    // OPI's own clients, on the test's clock; pacing off, as the helper's clients.
    opi = createOpi({ clock: p.clock, pacing: false });
    domain = transport === 'https' ? p.emu.domain : `http://${p.emu.domain}`;
  }
  async function lastRequest(): Promise<LogEntry> {
    const { requests } = await p.control<{ requests: LogEntry[] }>('GET', '/requests?limit=1');
    return requests[0] as LogEntry;
  }
  const notification = (id: unknown) => p.control<Stored>('GET', `/notifications/${String(id)}`);

  test('seed example 1: a webhook, picture and file blocks, the empty Tag skipped', async () => {
    await start();
    const URL = p.emu.webhookUrl;
    const UserID = 1;
    const Attachments = [opi.GetPictureBlock('Image1', Image), opi.GetFileBlock('File1.docx', File)];

    // OPI: CreatePersonalNotification(URL, UserID, Text, , Attachments)
    const Result = await opi.CreatePersonalNotification(URL, UserID, Text, undefined, Attachments);

    expect(Result).toMatchObject({ result: expect.any(Number), time: { operating: expect.any(Number) } });
    const request = await lastRequest();
    expect(request.method).toBe('im.notify.personal.add');
    expect(request.transport).toBe('webhook');
    // Empty optionals are left out of the request, not sent empty.
    expect(request.params).toEqual({
      USER_ID: 1,
      MESSAGE: Text,
      ATTACH: [{ IMAGE: { NAME: 'Image1', LINK: Image } }, { FILE: { NAME: 'File1.docx', LINK: File } }],
    });
    const stored = await notification((Result as { result: number }).result);
    expect(stored).toMatchObject({ userId: 1, authorId: 1, message: Text, tag: null });
    expect(JSON.stringify(stored.attach)).toContain('File1.docx');
  });

  test('seed example 2: a domain with a Token and the Tag "New" to user 10', async () => {
    await start();
    const URL = domain;
    const Token = p.emu.tokens.accessToken;
    const Tag = 'New';
    const UserID = 10;

    // OPI: CreatePersonalNotification(URL, UserID, Text, Tag, , Token)
    const Result = await opi.CreatePersonalNotification(URL, UserID, Text, Tag, undefined, Token);

    expect(Result).toMatchObject({ result: expect.any(Number) });
    const request = await lastRequest();
    expect(request.transport).toBe('oauth');
    expect(request.params).toEqual({ USER_ID: 10, MESSAGE: Text, TAG: 'New', auth: '***' });
    const stored = await notification((Result as { result: number }).result);
    expect(stored).toMatchObject({ userId: 10, message: Text, tag: 'New' });

    // The tag is unique: sending it again replaces the first.
    const again = await opi.CreatePersonalNotification(URL, UserID, 'Second', Tag, '', Token);
    const { total } = await p.control<{ total: number }>('GET', '/notifications?tag=New');
    expect(total).toBe(1);
    expect(again).toMatchObject({ result: expect.any(Number) });
  });

  test('empty strings and empty arrays count as left out; UserID may be a string', async () => {
    await start();
    await opi.CreatePersonalNotification(p.emu.webhookUrl, '2', Text, '', [], '');
    expect((await lastRequest()).params).toEqual({ USER_ID: '2', MESSAGE: Text });
    await opi.CreatePersonalNotification(p.emu.webhookUrl, 2, Text, '', '');
    expect((await lastRequest()).params).toEqual({ USER_ID: 2, MESSAGE: Text });
  });

  test('Attachments may be a JSON string, as OPI passes it on', async () => {
    await start();
    const blocks = JSON.stringify([opi.GetPictureBlock('Image1', Image)]);
    const Result = await opi.CreatePersonalNotification(p.emu.webhookUrl, 1, Text, '', blocks);
    expect(Result).toMatchObject({ result: expect.any(Number) });
    expect((await lastRequest()).params.ATTACH).toBe(blocks);
  });

  test('system notifications and deletion, with a webhook and with a token', async () => {
    await start();
    const Token = p.emu.tokens.accessToken;
    // To the webhook's own user: a portal lets a user delete what they received.
    const system = await opi.CreateSystemNotification(p.emu.webhookUrl, 1, 'System text', 'sys');
    expect((await lastRequest()).method).toBe('im.notify.system.add');
    const id = (system as { result: number }).result;
    expect(await notification(id)).toMatchObject({ userId: 1, authorId: 0, tag: 'sys' });

    expect(await opi.DeleteNotification(p.emu.webhookUrl, id)).toMatchObject({ result: true });
    const byToken = await opi.CreatePersonalNotification(domain, 1, Text, '', '', Token);
    expect(await opi.DeleteNotification(domain, (byToken as { result: number }).result, Token)).toMatchObject(
      {
        result: true,
      },
    );
    expect((await lastRequest()).params).toEqual({ ID: (byToken as { result: number }).result, auth: '***' });
    expect((await p.control<{ total: number }>('GET', '/notifications')).total).toBe(0);
  });

  test('errors come back as data, as OPI returns them', async () => {
    await start();
    const noUser = await opi.CreatePersonalNotification(p.emu.webhookUrl, 0, Text);
    expect(noUser).toEqual({ error: 'USER_ID_EMPTY', error_description: "User ID can't be empty" });

    const badToken = await opi.CreatePersonalNotification(domain, 1, Text, '', '', 'not-a-token');
    expect(badToken).toMatchObject({ error: 'NO_AUTH_FOUND', error_description: expect.any(String) });

    // An untagged send lost on the way is not re-sent (it may have arrived), where OPI would
    // have repeated it.
    await p.control('POST', '/reset');
    await p.control('PUT', '/chaos', {
      rules: [{ method: 'im.notify.personal.add', sequence: [{ type: 'reset' }] }],
    });
    const lost = await opi.CreatePersonalNotification(p.emu.webhookUrl, 1, Text);
    expect(lost).toMatchObject({
      error: 'NETWORK_ERROR',
      error_description: expect.stringContaining('im.notify.personal.add'),
    });
    const { requests } = await p.control<{ requests: unknown[] }>(
      'GET',
      '/requests?method=im.notify.personal.add',
    );
    expect(requests).toHaveLength(1);

    const unusable = await opi.CreatePersonalNotification('', 1, Text);
    expect(unusable).toMatchObject({ error: 'VALIDATION_ERROR' });
  });
});

test('OPI strips the scheme and www. and calls over https, for a domain and for a webhook', async () => {
  const p = await startPortal('https');
  try {
    const opi = createOpi({ clock: p.clock, pacing: false });
    const Token = p.emu.tokens.accessToken;
    // (`http://` to loopback is kept as http for the emulator, so only https forms here.)
    for (const url of [`https://${p.emu.domain}/`, `https://www.${p.emu.domain}`, p.emu.domain]) {
      expect(await opi.CreatePersonalNotification(url, 1, Text, '', '', Token), url).toMatchObject({
        result: expect.any(Number),
      });
    }
    const bareWebhook = p.emu.webhookUrl.replace(/^https:\/\//, '');
    expect(await opi.CreatePersonalNotification(bareWebhook, 1, Text)).toMatchObject({
      result: expect.any(Number),
    });
  } finally {
    await p.close();
  }
});

test('GetPictureBlock and GetFileBlock build OPI’s blocks', () => {
  expect(opiModule.GetPictureBlock('Image1', Image)).toEqual({ IMAGE: { NAME: 'Image1', LINK: Image } });
  expect(opiModule.GetFileBlock('File1.docx', File)).toEqual({ FILE: { NAME: 'File1.docx', LINK: File } });
});

test('the Russian names are the same functions', () => {
  expect(opiModule.СоздатьПерсональноеУведомление).toBe(opiModule.CreatePersonalNotification);
  expect(opiModule.СоздатьСистемноеУведомление).toBe(opiModule.CreateSystemNotification);
  expect(opiModule.УдалитьУведомление).toBe(opiModule.DeleteNotification);
  expect(opiModule.ПолучитьБлокКартинки).toBe(opiModule.GetPictureBlock);
  expect(opiModule.ПолучитьБлокФайла).toBe(opiModule.GetFileBlock);
  const opi = createOpi();
  expect(opi.СоздатьПерсональноеУведомление).toBe(opi.CreatePersonalNotification);
  expect(opi.СоздатьСистемноеУведомление).toBe(opi.CreateSystemNotification);
  expect(opi.УдалитьУведомление).toBe(opi.DeleteNotification);
  expect(opi.ПолучитьБлокКартинки).toBe(opi.GetPictureBlock);
  expect(opi.ПолучитьБлокФайла).toBe(opi.GetFileBlock);
});
