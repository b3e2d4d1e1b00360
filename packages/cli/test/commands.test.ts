import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningEmulator } from '@b24notify/emulator';
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import { BIN, emulator, json, run, sandbox } from './support.js';

let emu: RunningEmulator;
const box = sandbox();
let env: Record<string, string>;

beforeAll(async () => {
  emu = await emulator();
  env = { ...box.env, B24_WEBHOOK_URL: emu.webhookUrl };
});
afterAll(() => emu.close());

/** Send a notification to user 1 (the webhook's user) and return its id. */
async function sendOne(...extra: string[]): Promise<number> {
  const r = await run(['send', '--user', '1', '--text', 'to manage', '-q', ...extra], { env });
  if (r.code !== 0) throw new Error(r.stderr);
  return Number(r.stdout);
}

describe('delete, read, list, call', () => {
  test('delete by --id, --tag and --sub-tag', async () => {
    const [a, b, c] = await Promise.all([
      sendOne(),
      sendOne('--tag', 'deploy-7', '--client-id', 'ci'),
      sendOne('--sub-tag', 'deploys', '--client-id', 'ci'),
    ]);
    const [byId, byTag, bySubTag, both] = await Promise.all([
      run(['delete', '--id', String(a)], { env }),
      run(['delete', '--tag', 'deploy-7', '--client-id', 'ci'], { env }),
      run(['delete', '--sub-tag', 'deploys', '--client-id', 'ci', '--quiet'], { env }),
      run(['delete', '--id', '1', '--tag', 'x'], { env }),
    ]);
    expect(json(byId)).toMatchObject({ result: true });
    expect(json(byTag)).toMatchObject({ result: true });
    expect(bySubTag.stdout).toBe('true\n');
    for (const id of [a, b, c]) expect(emu.portal.store.getNotification(id)).toBeUndefined();
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('pass exactly one of --id, --tag or --sub-tag');
  });

  test('read --id (--only-current, --unread), --ids, --all', async () => {
    const [a, b, c] = [await sendOne(), await sendOne(), await sendOne()];
    const one = await run(['read', '--id', String(b), '--only-current'], { env });
    expect(json(one)).toMatchObject({ result: true });
    expect([a, b, c].map((id) => emu.portal.store.getNotification(id)?.read)).toEqual([false, true, false]);
    const list = await run(['read', '--ids', `${a},${c}`], { env });
    expect(json(list)).toMatchObject({ result: true });
    expect(emu.portal.store.getNotification(c)?.read).toBe(true);
    const unread = await run(['read', '--id', String(a), '--unread'], { env });
    expect(json(unread)).toMatchObject({ result: true });
    expect([a, b, c].map((id) => emu.portal.store.getNotification(id)?.read)).toEqual([false, false, false]);
    const all = await run(['read', '--all'], { env });
    expect(json(all)).toMatchObject({ result: { result: true } });
    expect([a, b, c].every((id) => emu.portal.store.getNotification(id)?.read)).toBe(true);
    const [none, badIds] = await Promise.all([
      run(['read'], { env }),
      run(['read', '--ids', '1,,2'], { env }),
    ]);
    expect(none.code).toBe(2);
    expect(badIds.code).toBe(2);
    expect(badIds.stderr).toContain('--ids: expected ids separated by commas');
  });

  test('list with --limit, paging and --quiet', async () => {
    const ids = [await sendOne(), await sendOne(), await sendOne()];
    const page = await run(['list', '--limit', '2'], { env });
    const answer = json<{ result: { notifications: { id: number }[]; total_count: number } }>(page);
    expect(answer.result.notifications.map((n) => n.id)).toEqual([ids[2], ids[1]]);
    const [next, quiet, bad] = await Promise.all([
      run(['list', '--limit', '1', '--last-id', String(ids[1]), '--last-type', '3', '-q'], { env }),
      run(['list', '--limit', '3', '--quiet'], { env }),
      run(['list', '--limit', '51'], { env }),
    ]);
    expect(next.stdout).toBe(`${ids[0]}\n`);
    expect(quiet.stdout).toBe(`${[...ids].reverse().join('\n')}\n`);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--limit: expected a whole number from 1 to 50, got "51"');
  });

  test('call any method with --params inline or from a file', async () => {
    const params = join(box.dir, 'params.json');
    writeFileSync(params, JSON.stringify({ USER_ID: 2, MESSAGE: 'raw call' }));
    const [inline, file, noParams, notObject, noMethod] = await Promise.all([
      run(['call', 'im.notify.personal.add', '--params', '{"USER_ID":1,"MESSAGE":"raw"}'], { env }),
      run(['call', 'im.notify.system.add', '--params', `@${params}`], { env }),
      run(['call', 'server.time'], { env }),
      run(['call', 'im.notify.get', '--params', '[1]'], { env }),
      run(['call'], { env }),
    ]);
    expect(emu.portal.store.getNotification(json<{ result: number }>(inline).result)?.message).toBe('raw');
    expect(emu.portal.store.getNotification(json<{ result: number }>(file).result)).toMatchObject({
      userId: 2,
      type: 'system',
    });
    expect(json(noParams)).toHaveProperty('result');
    expect(notObject.code).toBe(2);
    expect(notObject.stderr).toContain('--params: expected a JSON object');
    expect(noMethod.code).toBe(2);
  });
});

describe('emulator, demo, completion, help, version', () => {
  test('demo sends the OPI example to an in-process emulator and prints the Result', async () => {
    const r = await run(['demo'], { env: box.env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Result\n\{\n {2}"result": 1,\n {2}"time": \{/);
    expect(r.stdout).toMatch(/Notification 1 is stored in the emulator, which stops now/);
    // The emulator is gone when this is read: no dead address, the way to keep it instead.
    expect(r.stdout).not.toMatch(/http:\/\/127\.0\.0\.1/);
    expect(r.stdout).toContain('run: b24notify demo --keep');
  });

  test('demo --keep prints the inbox and the webhook URL; a send to it arrives', async () => {
    const child = spawn(process.execPath, [BIN, 'demo', '--keep', '--port', '0'], {
      env: { PATH: process.env.PATH ?? '', ...box.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      await new Promise<void>((resolve, reject) => {
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          out += chunk;
          if (out.includes('Press Ctrl+C')) resolve();
        });
        child.on('exit', () => reject(new Error(`exited early: ${out}`)));
      });
      const inbox = /See it in the inbox: (\S+)/.exec(out)?.[1] ?? '';
      const webhook = /export B24_WEBHOOK_URL="([^"]+)"/.exec(out)?.[1] ?? '';
      expect(inbox).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect(webhook.startsWith(inbox)).toBe(true);
      const sent = await run(['send', '--user', '1', '--text', 'watch it arrive', '-q'], {
        env: { ...box.env, B24_WEBHOOK_URL: webhook },
      });
      expect(sent.code, sent.stderr).toBe(0);
      const stored = await fetch(`${inbox}_emulator/api/notifications/${sent.stdout.trim()}`);
      expect(((await stored.json()) as { message?: string }).message).toBe('watch it arrive');
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        const exit = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exit;
      }
    }
  });

  test('emulator starts the emulator with its options, serves sends, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [BIN, 'emulator', '--port', '0', '--plan', 'off'], {
      env: { PATH: process.env.PATH ?? '', ...box.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // A failed assertion must not leave the emulator running.
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let banner = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        banner += chunk;
        if (banner.includes('Press Ctrl+C')) resolve();
      });
      child.on('exit', () => reject(new Error(`exited early: ${banner}`)));
    });
    const webhook = /Webhook URL:\s+(\S+)/.exec(banner)?.[1] ?? '';
    expect(webhook).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/rest\/1\/\w+\/$/);
    const sent = await run([
      'send',
      '--webhook',
      webhook,
      '--user',
      '1',
      '--text',
      'to the CLI emulator',
      '-q',
    ]);
    expect(sent.stdout).toBe('1\n');

    // The portal and token as printed work as pasted; the bare host:port (https) says what to do.
    const printed = (label: string): string => new RegExp(`${label}:\\s+(\\S+)`).exec(banner)?.[1] ?? '';
    const portal = printed('Portal');
    expect(portal).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const token = printed('Access token');
    const [byToken, bare] = await Promise.all([
      run(['send', '--portal', portal, '--token', token, '--user', '1', '--text', 'by token', '-q']),
      run([
        'send',
        '--portal',
        portal.replace('http://', ''),
        '--token',
        token,
        '--user',
        '1',
        '--text',
        'x',
      ]),
    ]);
    expect(byToken.code, byToken.stderr).toBe(0);
    expect(bare.code).toBe(6);
    expect(bare.stderr).toContain('does not speak HTTPS');
    expect(bare.stderr).toContain(`to do:    If it is the b24notify emulator started without --https`);
    expect(bare.stderr).toContain(`give the address with its scheme: ${portal}.`);
    expect(bare.stderr).toContain('delivery: not delivered');
    expect(printed('Token endpoint')).toBe(`${portal}/oauth/token/`);

    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);

    const bad = await run(['emulator', '--plan', 'gold']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--plan: expected standard, enterprise or off, got "gold"');
  });

  test('emulator --config with several portals serves each of them', async () => {
    const config = join(box.dir, 'portals.json');
    writeFileSync(config, JSON.stringify({ plan: 'off', portals: [{ name: 'shop' }, { name: 'crm' }] }));
    const child = spawn(process.execPath, [BIN, 'emulator', '--port', '0', '--config', config], {
      env: { PATH: process.env.PATH ?? '', ...box.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let banner = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        banner += chunk;
        if (banner.includes('Press Ctrl+C')) resolve();
      });
      child.on('exit', () => reject(new Error(`exited early: ${banner}`)));
    });
    const crm = /^ {2}crm +(\S+)$/m.exec(banner)?.[1] ?? '';
    const shop = /^ {2}shop +(\S+)$/m.exec(banner)?.[1] ?? '';
    expect(new URL(crm).port).not.toBe(new URL(shop).port);
    const sent = await run(['send', '--webhook', crm, '--user', '1', '--text', 'to crm', '-q']);
    expect(sent.stdout).toBe('1\n');
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
  });

  test('completion scripts for bash and zsh', async () => {
    const [bash, zsh, fish] = await Promise.all([
      run(['completion', 'bash']),
      run(['completion', 'zsh']),
      run(['completion', 'fish']),
    ]);
    expect(bash.code).toBe(0);
    expect(bash.stdout).toContain('complete -o default -F _b24notify b24notify');
    expect(bash.stdout).toMatch(/send\) opts="[^"]*--user[^"]*--attach[^"]*--webhook/);
    expect(bash.stdout).toContain('CreatePersonalNotification');
    expect(zsh.code).toBe(0);
    expect(zsh.stdout).toMatch(/^#compdef b24notify/);
    expect(zsh.stdout).toContain("'send:send a personal or system notification'");
    expect(zsh.stdout).toContain(
      "'--attach[ATTACH as inline JSON, or @file.json (a path also works)]:JSON|@FILE:_files'",
    );
    expect(fish.code).toBe(2);
    expect(fish.stderr).toContain('unsupported shell "fish"');
  });

  test('--help at every level, with examples, and --version', async () => {
    const names = [
      'send',
      'delete',
      'read',
      'list',
      'call',
      'outbox',
      'config',
      'emulator',
      'demo',
      'completion',
    ];
    const [top, version, helpSend, ...each] = await Promise.all([
      run(['--help']),
      run(['--version']),
      run(['help', 'send']),
      ...names.map((name) => run([name, '--help'])),
    ]);
    expect(top.code).toBe(0);
    for (const name of [...names, 'bitrix24']) expect(top.stdout).toContain(`  ${name}`);
    expect(top.stdout).toContain('Exit codes:');
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    expect(helpSend.stdout).toContain('Usage: b24notify send');
    each.forEach((r, i) => {
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: b24notify ${names[i]}`);
      expect(r.stdout).toContain('Examples:');
    });
  });
});
