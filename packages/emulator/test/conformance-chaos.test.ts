/**
 * Conformance of fault injection over the wire: faults set in the portal config and through
 * the control API (`PUT /_emulator/api/chaos`), as a client sees them, and as the request
 * log records them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ChaosSettings, RequestLogEntry } from '../src/index.js';
import { startTestPortal, TRANSPORTS, type Answer, type TestPortal } from './support/emulator.js';

const SEND = { USER_ID: 2, MESSAGE: 'hello' };
const INTERNAL = { error: 'INTERNAL_SERVER_ERROR', error_description: 'Internal server error' };

/** What a client saw: a status and error code, or the socket error it got instead. */
type Seen = { status: number; error?: unknown } | { failed: string };

async function see(call: Promise<Answer>): Promise<Seen> {
  try {
    const a = await call;
    return a.status === 200 ? { status: 200 } : { status: a.status, error: a.body.error };
  } catch (err) {
    return { failed: (err as NodeJS.ErrnoException).code ?? (err as Error).message };
  }
}

function expectJson(answer: Answer, status: number, body: Record<string, string>): void {
  expect(answer.status).toBe(status);
  expect(answer.headers['content-type']).toMatch(/^application\/json\b/);
  expect(answer.json).toEqual(body);
}

describe.each(TRANSPORTS)('chaos over %s', (transport) => {
  let t: TestPortal;
  const others: TestPortal[] = [];
  afterEach(async () => {
    await t.close();
    for (const o of others.splice(0)) await o.close();
  });

  const log = async (): Promise<RequestLogEntry[]> =>
    ((await t.control('GET', '/requests?limit=1000')).body.requests as RequestLogEntry[]).slice().reverse();
  const setChaos = async (settings: unknown): Promise<Answer> => t.control('PUT', '/chaos', settings);

  it('an error fault from the config answers 500 with the documented body; other methods pass', async () => {
    t = await startTestPortal(transport, {
      portal: {
        chaos: {
          rules: [
            { method: 'IM.NOTIFY.PERSONAL.ADD', faults: [{ type: 'error', code: 'INTERNAL_SERVER_ERROR' }] },
          ],
        },
      },
    });
    expectJson(await t.hook('im.notify.personal.add', SEND), 500, INTERNAL);
    expectJson(await t.oauth('im.notify.personal.add', SEND), 500, INTERNAL);
    expect((await t.hook('im.notify.system.add', SEND)).status).toBe(200);
    // The fault replaces the call: nothing from the failed ones was stored.
    expect((await t.control('GET', '/notifications')).body.total).toBe(1);
    const entries = await log();
    expect(entries.map((e) => [e.method, e.status, e.error, e.fault])).toEqual([
      ['im.notify.personal.add', 500, 'INTERNAL_SERVER_ERROR', 'error INTERNAL_SERVER_ERROR'],
      ['im.notify.personal.add', 500, 'INTERNAL_SERVER_ERROR', 'error INTERNAL_SERVER_ERROR'],
      ['im.notify.system.add', 200, undefined, undefined],
    ]);
  });

  it('a 503 fault from the control API, with a documented code or a status of its own', async () => {
    t = await startTestPortal(transport);
    const put = await setChaos({
      seed: 9,
      rules: [
        { method: 'profile', faults: [{ type: 'error', code: 'QUERY_LIMIT_EXCEEDED' }] },
        { method: '*', faults: [{ type: 'error', code: 'SERVICE_UNAVAILABLE', status: 503 }] },
      ],
    });
    expect(put.status).toBe(200);
    expect(put.body.seed).toBe(9);
    expectJson(await t.hook('profile'), 503, {
      error: 'QUERY_LIMIT_EXCEEDED',
      error_description: 'Too many requests',
    });
    expectJson(await t.hook('im.notify.personal.add', SEND), 503, {
      error: 'SERVICE_UNAVAILABLE',
      error_description: 'Injected fault',
    });
    expect((await setChaos({ rules: [] })).status).toBe(200);
    expect((await t.hook('profile')).status).toBe(200);
    const entries = await log();
    expect(entries.map((e) => e.fault)).toEqual([
      'error QUERY_LIMIT_EXCEEDED',
      'error SERVICE_UNAVAILABLE',
      undefined,
    ]);
  });

  it('a reset fault drops the connection: the client sees a socket error, the next call works', async () => {
    t = await startTestPortal(transport);
    expect((await t.hook('profile')).status).toBe(200);
    await setChaos({ rules: [{ method: 'im.notify.personal.add', sequence: [{ type: 'reset' }] }] });
    const seen = await see(t.hook('im.notify.personal.add', SEND));
    expect(seen).toEqual({ failed: 'ECONNRESET' });
    expect((await t.hook('im.notify.personal.add', SEND)).status).toBe(200);
    // The reset came before the method ran.
    expect((await t.control('GET', '/notifications')).body.total).toBe(1);
    const entries = await log();
    const reset = entries[1] as RequestLogEntry;
    expect([reset.method, reset.fault, reset.status, reset.response]).toEqual([
      'im.notify.personal.add',
      'reset',
      0,
      undefined,
    ]);
  });

  it('a delay fault answers normally, no sooner than the delay', async () => {
    t = await startTestPortal(transport, {
      portal: { chaos: { rules: [{ method: 'profile', sequence: [{ type: 'delay', ms: 150 }] }] } },
    });
    const started = performance.now();
    const slow = await t.hook('profile');
    const elapsed = performance.now() - started;
    expect(slow.status).toBe(200);
    expect((slow.body.result as Record<string, unknown>).ID).toBe('1');
    expect(elapsed).toBeGreaterThanOrEqual(140);
    const entries = await log();
    expect(entries.map((e) => [e.fault, e.status])).toEqual([['delay', 200]]);
  });

  it('a truncate fault cuts the body short of its content-length, after the call ran', async () => {
    t = await startTestPortal(transport);
    await setChaos({ rules: [{ method: 'im.notify.personal.add', sequence: [{ type: 'truncate' }] }] });
    let outcome: string;
    try {
      const a = await t.hook('im.notify.personal.add', SEND);
      const declared = Number(a.headers['content-length']);
      expect(Buffer.byteLength(a.text)).toBeLessThan(declared);
      expect(a.json).toBeUndefined();
      outcome = 'short';
    } catch (err) {
      outcome = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    }
    expect(['short', 'ECONNRESET']).toContain(outcome);
    // The portal did the work; only the answer was lost, as when a proxy drops it.
    expect((await t.control('GET', '/notifications')).body.total).toBe(1);
    expect((await t.hook('im.notify.personal.add', SEND)).status).toBe(200);
    const entries = await log();
    expect(entries.map((e) => [e.fault, e.status])).toEqual([
      ['truncate', 200],
      [undefined, 200],
    ]);
  });

  it('plays a scripted sequence in order for its method only, then passes', async () => {
    t = await startTestPortal(transport);
    await setChaos({
      rules: [
        {
          method: 'im.notify.personal.add',
          sequence: [
            null,
            { type: 'error', code: 'INTERNAL_SERVER_ERROR' },
            { type: 'error', code: 'BUSY', status: 503 },
            null,
            { type: 'error', code: 'ERROR_UNEXPECTED_ANSWER' },
          ],
        },
      ],
    });
    const seen: Seen[] = [];
    for (let i = 0; i < 7; i++) {
      seen.push(await see(t.hook('im.notify.personal.add', SEND)));
      // Calls of other methods neither fault nor move the script on.
      seen.push(await see(t.hook('profile')));
    }
    const ok = { status: 200 };
    expect(seen).toEqual([
      ok,
      ok,
      { status: 500, error: 'INTERNAL_SERVER_ERROR' },
      ok,
      { status: 503, error: 'BUSY' },
      ok,
      ok,
      ok,
      { status: 500, error: 'ERROR_UNEXPECTED_ANSWER' },
      ok,
      ok,
      ok,
      ok,
      ok,
    ]);
    expect((await t.control('GET', '/notifications')).body.total).toBe(4);
  });

  it('the same seed gives the same faults on two fresh emulators, whichever way it was set', async () => {
    const chaos: ChaosSettings = {
      seed: 20260514,
      rules: [
        {
          method: '*',
          probability: 0.5,
          faults: [
            { type: 'error', code: 'INTERNAL_SERVER_ERROR' },
            { type: 'error', code: 'ERROR_UNEXPECTED_ANSWER' },
            { type: 'error', code: 'BUSY', status: 503 },
          ],
        },
      ],
    };
    const run = async (p: TestPortal): Promise<Seen[]> => {
      const out: Seen[] = [];
      for (let i = 0; i < 30; i++)
        out.push(await see(p.hook(i % 2 ? 'profile' : 'im.notify.personal.add', SEND)));
      return out;
    };
    t = await startTestPortal(transport, { portal: { chaos } });
    const first = await run(t);
    const second = await startTestPortal(transport, { portal: { chaos } });
    others.push(second);
    expect(await run(second)).toEqual(first);
    const third = await startTestPortal(transport);
    others.push(third);
    expect((await third.control('PUT', '/chaos', chaos)).status).toBe(200);
    expect(await run(third)).toEqual(first);
    // The run is a real mix, and another seed gives another one.
    const kinds = new Set(first.map((s) => JSON.stringify(s)));
    expect(kinds.size).toBe(4);
    const fourth = await startTestPortal(transport, { portal: { chaos: { ...chaos, seed: 7 } } });
    others.push(fourth);
    expect(await run(fourth)).not.toEqual(first);
    // Re-sending the same settings restarts the sequence.
    expect((await t.control('PUT', '/chaos', chaos)).status).toBe(200);
    expect(await run(t)).toEqual(first);
  });

  it.each([
    [{ rules: [{ method: '*', probability: 2, faults: [{ type: 'reset' }] }] }, /^rules\[0\]\.probability: /],
    [
      { rules: [{ method: '*', faults: [{ type: 'delay', ms: 120_000 }] }] },
      /^rules\[0\]\.faults\[0\]\.ms: /,
    ],
    [
      { rules: [{ method: 'x', sequence: [null, { type: 'explode' }] }] },
      /^rules\[0\]\.sequence\[1\]\.type: /,
    ],
    [
      { rules: [{ method: '*', faults: [{ type: 'error', code: 'X', status: 200 }] }] },
      /^rules\[0\]\.faults\[0\]\.status: /,
    ],
    [
      { rules: [{ method: '*', probabilty: 0.5, faults: [{ type: 'reset' }] }] },
      /^rules\[0\]\.probabilty: unknown field/,
    ],
    [{ rules: [{ method: '', faults: [{ type: 'reset' }] }] }, /^rules\[0\]\.method: /],
    [{ rules: [{ method: 'x' }] }, /^rules\[0\]: needs faults or sequence/],
    [{ seed: -1, rules: [] }, /^seed: /],
    [{ rules: 'all' }, /^rules: /],
    [[], /^settings: /],
  ])('refuses invalid settings %j with 400 naming the field, keeping the old ones', async (bad, message) => {
    t = await startTestPortal(transport);
    const good = {
      seed: 1,
      rules: [{ method: 'profile', faults: [{ type: 'error', code: 'INTERNAL_SERVER_ERROR' }] }],
    };
    expect((await setChaos(good)).status).toBe(200);
    const refused = await setChaos(bad);
    expect(refused.status).toBe(400);
    expect(refused.headers['content-type']).toMatch(/^application\/json\b/);
    expect(refused.body.error_description).toMatch(message);
    expect((await t.control('GET', '/chaos')).json).toEqual(good);
    expect((await t.hook('profile')).status).toBe(500);
  });

  it('refuses a body that is not JSON', async () => {
    t = await startTestPortal(transport);
    const a = await t.request('/_emulator/api/chaos', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{"rules": [',
    });
    expect(a.status).toBe(400);
    expect(a.body.error_description).toMatch(/^body: /);
  });

  it('refuses invalid settings in the config at start, naming the field', async () => {
    t = await startTestPortal(transport);
    await expect(
      startTestPortal(transport, {
        portal: { chaos: { rules: [{ method: '*', faults: [{ type: 'delay', ms: -5 }] }] } },
      }),
    ).rejects.toThrow(/rules\[0\]\.faults\[0\]\.ms: /);
  });
});
