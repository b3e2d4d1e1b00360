/**
 * Many portals in one emulator: each with its own webhooks, OAuth app, limits and store,
 * addressed by port (a listener each) or by the Host header (one listener), chosen in
 * `startEmulator` and in the config file; the control API addresses them by `?portal=`.
 */
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { checkServerIdentity } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import {
  ConfigError,
  loadEmulatorConfig,
  startEmulator,
  validateEmulatorConfig,
  type RunningEmulator,
} from '../src/index.js';

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

const agent = new Agent({ keepAlive: true });

/** A real HTTP request to `url`'s listener, with the Host header given (or the URL's own). */
function send(url: string, init: { method?: string; host?: string; body?: unknown } = {}): Promise<Answer> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
        headers: {
          host: init.host ?? target.host,
          ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        agent,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(init.body === undefined ? undefined : JSON.stringify(init.body));
  });
}

let emu: RunningEmulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});
afterAll(() => agent.destroy());

const notify = (webhookUrl: string, message: string, host?: string) =>
  send(`${webhookUrl}im.notify.personal.add`, {
    body: { USER_ID: 1, MESSAGE: message },
    ...(host ? { host } : {}),
  });

describe('one portal, as before', () => {
  test('startEmulator({ portal }) is a single portal named "default"', async () => {
    emu = await startEmulator({ portal: { plan: 'off' } });
    expect(emu.portals).toHaveLength(1);
    expect(emu.portals[0]).toMatchObject({ name: 'default', url: emu.url, webhookUrl: emu.webhookUrl });
    expect(emu.portals[0]?.portal).toBe(emu.portal);
    const list = await send(`${emu.url}/_emulator/api/portals`);
    expect(list.body).toMatchObject({ addressing: 'port', portals: [{ name: 'default', current: true }] });
  });
});

describe('addressed by port: a listener per portal', () => {
  test('each portal has its own webhook, OAuth tokens, store and limits', async () => {
    emu = await startEmulator({
      portal: { plan: 'off' },
      portals: [{ name: 'a' }, { name: 'b' }, {}],
    });
    const [a, b, c] = emu.portals;
    if (!a || !b || !c) throw new Error('expected three portals');
    expect(emu.portals.map((p) => p.name)).toEqual(['a', 'b', 'portal3']);
    expect(new Set(emu.portals.map((p) => p.url)).size).toBe(3);
    expect(emu.url).toBe(a.url);
    expect(emu.portalNamed('b')).toBe(b);
    expect(() => emu?.portalNamed('zz')).toThrow(/"a", "b", "portal3"/);
    expect(a.portal.config.domain).toBe('a.localhost');

    // Webhooks: each works on its own portal only.
    expect((await notify(a.webhookUrl, 'to a')).status).toBe(200);
    expect((await notify(b.webhookUrl, 'to b')).status).toBe(200);
    expect((await notify(b.webhookUrl, 'to b again')).status).toBe(200);
    const foreignHook = `${b.url}${new URL(a.webhookUrl).pathname}`;
    const refused = await notify(foreignHook, 'a code on b');
    expect(refused.body.error).toBe('INVALID_CREDENTIALS');

    // OAuth: a token of one portal is unknown to another.
    const own = await send(`${b.url}/rest/profile`, { body: { auth: b.tokens.accessToken } });
    expect(own.status).toBe(200);
    const foreign = await send(`${b.url}/rest/profile`, { body: { auth: a.tokens.accessToken } });
    expect(foreign.body.error).toBe('NO_AUTH_FOUND');
    const refreshed = await send(`${a.url}/oauth/token/`, {
      body: {
        grant_type: 'refresh_token',
        client_id: a.tokens.clientId,
        client_secret: a.tokens.clientSecret,
        refresh_token: a.tokens.refreshToken,
      },
    });
    expect(refreshed.status).toBe(200);
    const crossRefresh = await send(`${b.url}/oauth/token/`, {
      body: {
        grant_type: 'refresh_token',
        client_id: b.tokens.clientId,
        client_secret: b.tokens.clientSecret,
        refresh_token: String(refreshed.body.refresh_token),
      },
    });
    expect(crossRefresh.body.error).toBe('invalid_grant');

    // Stores: each portal lists only its own notifications.
    const listA = await send(`${a.url}/rest/im.notify.get`, { body: { auth: a.tokens.accessToken } });
    const listB = await send(`${b.url}/rest/im.notify.get`, { body: { auth: b.tokens.accessToken } });
    expect((listA.body.result as { total_count: number }).total_count).toBe(1);
    expect((listB.body.result as { total_count: number }).total_count).toBe(2);
    expect(c.portal.store.size).toBe(0);

    // Limits: a bucket of 2 on portal a runs out there; b, with its own settings, does not.
    const limited = await send(`${a.url}/_emulator/api/limits`, {
      method: 'PUT',
      body: { plan: 'standard', intensity: { capacity: 2, drainPerSecond: 0.001 }, operating: false },
    });
    expect(limited.status).toBe(200);
    await notify(a.webhookUrl, '1');
    await notify(a.webhookUrl, '2');
    expect((await notify(a.webhookUrl, '3')).body.error).toBe('QUERY_LIMIT_EXCEEDED');
    for (let i = 0; i < 5; i++) expect((await notify(b.webhookUrl, `b${i}`)).status).toBe(200);
    expect(b.portal.limits.intensity).toBe(false);
  });

  test('the control API acts on the portal of its port, or the one ?portal= names', async () => {
    emu = await startEmulator({ portal: { plan: 'off' }, portals: [{ name: 'a' }, { name: 'b' }] });
    const [a, b] = emu.portals;
    if (!a || !b) throw new Error('expected two portals');
    await notify(b.webhookUrl, 'on b');
    const onA = await send(`${a.url}/_emulator/api/notifications`);
    expect(onA.body.total).toBe(0);
    const named = await send(`${a.url}/_emulator/api/notifications?portal=b`);
    expect(named.body.total).toBe(1);
    const reset = await send(`${a.url}/_emulator/api/reset?portal=b`, { method: 'POST' });
    expect(reset.status).toBe(200);
    expect(b.portal.store.size).toBe(0);
    const unknown = await send(`${a.url}/_emulator/api/notifications?portal=nope`);
    expect(unknown.status).toBe(404);
    expect(String(unknown.body.error_description)).toContain('"a", "b"');
    const list = await send(`${b.url}/_emulator/api/portals`);
    expect(list.body.portals).toMatchObject([
      { name: 'a', url: a.url, current: false },
      { name: 'b', url: b.url, current: true },
    ]);
    // The list masks webhook codes, as the rest of the control API does.
    expect(JSON.stringify(list.body)).not.toContain(new URL(a.webhookUrl).pathname.split('/')[3]);
  });

  test('events name their portal', async () => {
    emu = await startEmulator({ portal: { plan: 'off' }, portals: [{ name: 'a' }, { name: 'b' }] });
    const [a, b] = emu.portals;
    if (!a || !b) throw new Error('expected two portals');
    const events = new AbortController();
    const stream = await fetch(`${a.url}/_emulator/api/events?portal=b`, { signal: events.signal });
    const reader = stream.body?.getReader();
    if (!reader) throw new Error('no event stream');
    await notify(b.webhookUrl, 'seen on b');
    let text = '';
    // Read until the notification event has arrived: waiting for state, not for time.
    while (!/event: notification\ndata: .*\n\n/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString('utf8');
    }
    events.abort();
    const data = /event: notification\ndata: (.*)\n/.exec(text)?.[1];
    expect(JSON.parse(data ?? '{}')).toMatchObject({ message: 'seen on b', portal: 'b' });
  });
});

describe('addressed by Host: one listener', () => {
  test('the Host header picks the portal; any other Host reaches the first', async () => {
    emu = await startEmulator({
      addressing: 'host',
      portal: { plan: 'off' },
      portals: [{ name: 'a' }, { name: 'b', domain: 'b.example.test' }],
    });
    const [a, b] = emu.portals;
    if (!a || !b) throw new Error('expected two portals');
    const port = new URL(emu.url).port;
    expect(a.url).toBe(`http://a.localhost:${port}`);
    expect(b.url).toBe(`http://b.localhost:${port}`);
    // The top level is the listener's own address, which Node resolves, serving portal a.
    expect(emu.url).toBe(`http://127.0.0.1:${port}`);

    const hookA = new URL(a.webhookUrl).pathname;
    const hookB = new URL(b.webhookUrl).pathname;
    expect((await notify(`${emu.url}${hookA}`, 'a by Host', `a.localhost:${port}`)).status).toBe(200);
    expect((await notify(`${emu.url}${hookB}`, 'b by Host', `b.localhost:${port}`)).status).toBe(200);
    expect((await notify(`${emu.url}${hookB}`, 'b by domain', 'b.example.test')).status).toBe(200);
    expect((await notify(`${emu.url}${hookA}`, 'a by default')).status).toBe(200);
    const wrong = await notify(`${emu.url}${hookB}`, 'b code, a Host', `a.localhost:${port}`);
    expect(wrong.body.error).toBe('INVALID_CREDENTIALS');
    expect(a.portal.store.size).toBe(2);
    expect(b.portal.store.size).toBe(2);

    // The control API follows the Host too, and ?portal= overrides it.
    const onB = await send(`${emu.url}/_emulator/api/portal`, { host: `b.localhost:${port}` });
    expect(onB.body.domain).toBe('b.example.test');
    const override = await send(`${emu.url}/_emulator/api/portal?portal=a`, { host: `b.localhost:${port}` });
    expect(override.body.domain).toBe('a.localhost');

    // OAuth on b's Host knows b's tokens and answers with b's address.
    const refreshed = await send(`${emu.url}/oauth/token/`, {
      host: `b.localhost:${port}`,
      body: {
        grant_type: 'refresh_token',
        client_id: b.tokens.clientId,
        client_secret: b.tokens.clientSecret,
        refresh_token: b.tokens.refreshToken,
      },
    });
    expect(refreshed.status).toBe(200);
    expect(String(refreshed.body.client_endpoint)).toBe(`${b.url}/rest/`);
  });
});

describe('addressed by Host over HTTPS', () => {
  /** An HTTPS request to 127.0.0.1 that dials `name`: its SNI and Host, checked against `ca`. */
  function dial(port: string, name: string, path: string, ca: Buffer, body: unknown): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          servername: name,
          port,
          path,
          method: 'POST',
          ca,
          headers: { host: `${name}:${port}`, 'content-type': 'application/json' },
          // Checked against the name dialled, as a client that resolved it would.
          checkServerIdentity: (_host, cert) => checkServerIdentity(name, cert),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
            }),
          );
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
  }

  test("the certificate names each portal's <name>.localhost and domain, and keeps them for the next start", async () => {
    const tlsDir = mkdtempSync(join(tmpdir(), 'b24-portals-tls-'));
    emu = await startEmulator({
      https: true,
      tlsDir,
      addressing: 'host',
      portal: { plan: 'off' },
      portals: [{ name: 'a' }, { name: 'b', domain: 'b.example.test' }],
    });
    const [a, b] = emu.portals;
    if (!a || !b || !emu.caCertPath) throw new Error('expected two portals over HTTPS');
    const port = new URL(emu.url).port;
    expect(b.url).toBe(`https://b.localhost:${port}`);
    const ca = readFileSync(emu.caCertPath);
    const message = { USER_ID: 1, MESSAGE: 'over TLS' };
    for (const [portal, name] of [
      [a, 'a.localhost'],
      [b, 'b.localhost'],
      [b, 'b.example.test'],
    ] as const) {
      const answer = await dial(
        port,
        name,
        `${new URL(portal.webhookUrl).pathname}im.notify.personal.add`,
        ca,
        message,
      );
      expect(answer.status, name).toBe(200);
    }
    expect(a.portal.store.size).toBe(1);
    expect(b.portal.store.size).toBe(2);
    // A name no portal has is not in the certificate: the client refuses it.
    await expect(dial(port, 'c.localhost', '/rest/server.time', ca, {})).rejects.toThrow(/c\.localhost/);
    await emu.close();

    // Another emulator on the same directory with other portals: one certificate names them all.
    emu = await startEmulator({
      https: true,
      tlsDir,
      addressing: 'host',
      portal: { plan: 'off' },
      portals: [{ name: 'c' }, { name: 'd' }],
    });
    const cert = new X509Certificate(readFileSync(join(tlsDir, 'server.pem')));
    for (const name of [
      'localhost',
      'a.localhost',
      'b.localhost',
      'b.example.test',
      'c.localhost',
      'd.localhost',
    ])
      expect(cert.checkHost(name, { wildcards: false }), name).toBe(name);
    const again = await dial(new URL(emu.url).port, 'd.localhost', '/rest/server.time', ca, {});
    expect(again.status).not.toBe(0);
  });
});

test('with Host addressing, two portals on one domain are refused naming the field', async () => {
  await expect(
    startEmulator({
      addressing: 'host',
      portals: [
        { name: 'a', domain: 'same.test' },
        { name: 'b', domain: 'same.test' },
      ],
    }),
  ).rejects.toThrow(/portals\[1\]\.domain: "same.test" is portal "a"'s too/);
});

describe('chosen in the config file', () => {
  const dir = mkdtempSync(join(process.env.B24NOTIFY_TEST_TMP ?? tmpdir(), 'b24emu-portals-'));

  test('"portals" with shared settings and "addressing"', () => {
    const path = join(dir, 'portals.json');
    writeFileSync(
      path,
      JSON.stringify({
        plan: 'off',
        addressing: 'host',
        portals: [{ name: 'a' }, { name: 'b', plan: 'enterprise' }],
      }),
    );
    const config = loadEmulatorConfig(path);
    expect(config).toMatchObject({
      addressing: 'host',
      portals: [
        { name: 'a', plan: 'off' },
        { name: 'b', plan: 'enterprise' },
      ],
    });
    // A file without "portals" is one portal's settings, as before.
    expect(validateEmulatorConfig({ plan: 'off' })).toEqual({ plan: 'off' });
  });

  test.each([
    [{ portals: [] }, /portals: expected a non-empty list/],
    [{ portals: [{ name: 'a' }, { name: 'a' }] }, /portals\[1\]\.name: portal "a" is listed twice/],
    [{ portals: [{ name: 'Shop A' }] }, /portals\[0\]\.name: expected a DNS label/],
    [{ portals: [{ port: 70000 }] }, /portals\[0\]\.port: expected a port from 0 to 65535/],
    [{ portals: [{ port: 4000 }, { port: 4000 }] }, /portals\[1\]\.port: port 4000 is taken/],
    [{ portals: [{ plan: 'gold' }] }, /portals\[0\]\.plan: expected "standard"/],
    [{ addressing: 'dns', portals: [{}] }, /addressing: expected one of "port", "host"/],
  ])('%j is refused naming the field', (input, message) => {
    expect(() => validateEmulatorConfig(input)).toThrow(ConfigError);
    expect(() => validateEmulatorConfig(input)).toThrow(message);
  });

  test('with a data file, each portal keeps its own', async () => {
    const dataPath = join(dir, 'emu.db');
    emu = await startEmulator({ dataPath, portal: { plan: 'off' }, portals: [{ name: 'a' }, { name: 'b' }] });
    const hookB = emu.portals[1]?.webhookUrl ?? '';
    await notify(hookB, 'kept on b');
    await emu.close();
    expect(
      readdirSync(dir)
        .filter((f) => f.endsWith('.db'))
        .sort(),
    ).toEqual(['emu.a.db', 'emu.b.db']);
    emu = await startEmulator({ dataPath, portal: { plan: 'off' }, portals: [{ name: 'a' }, { name: 'b' }] });
    expect(emu.portals[0]?.portal.store.size).toBe(0);
    expect(emu.portals[1]?.portal.store.size).toBe(1);
    // The webhook a user pasted keeps working after a restart.
    expect(new URL(emu.portals[1]?.webhookUrl ?? '').pathname).toBe(new URL(hookB).pathname);
  });

  test('the command line serves every portal of the file and lists them on start', async () => {
    const path = join(dir, 'cli-portals.json');
    writeFileSync(path, JSON.stringify({ plan: 'off', portals: [{ name: 'shop' }, { name: 'crm' }] }));
    const bin = fileURLToPath(new URL('../bin/b24notify-emulator.js', import.meta.url));
    const child = spawn(process.execPath, [bin, '--port', '0', '--config', path], {
      env: { ...process.env, B24NOTIFY_EMULATOR_HOME: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          if (out.includes('Press Ctrl+C')) resolve();
        });
        child.on('exit', () => reject(new Error(`exited early: ${out}`)));
      });
      const hooks = [...out.matchAll(/^ {2}(shop|crm) +(http:\S+)$/gm)].map((m) => [m[1], m[2]]);
      expect(hooks.map(([name]) => name)).toEqual(['shop', 'crm']);
      for (const [name, hook] of hooks) {
        const sent = await notify(hook ?? '', `to ${name ?? ''}`);
        expect(sent.status).toBe(200);
        const list = await send(`${new URL(hook ?? '').origin}/_emulator/api/notifications`);
        expect(list.body).toMatchObject({ total: 1, notifications: [{ message: `to ${name ?? ''}` }] });
      }
    } finally {
      child.kill('SIGTERM');
    }
  });
});
