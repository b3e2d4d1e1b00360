/**
 * Conformance, `limits.md` (both repositories): "in the cloud a REST request must finish within
 * 60 seconds; if processing takes longer, the request is interrupted by timeout". Modelled
 * time is what a call is charged (`processingSeconds`), summed over a batch's commands. The
 * answer is a 504 HTML page (the docs do not show one; see GATEWAY_TIMEOUT_HTML).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GATEWAY_TIMEOUT_HTML } from '../src/rest.js';
import { startTestPortal, TRANSPORTS, type Answer, type TestPortal } from './support/emulator.js';

const SEND = { USER_ID: 2, MESSAGE: 'hello' };

function expectCut(answer: Answer): void {
  expect(answer.status).toBe(504);
  expect(answer.headers['content-type']).toMatch(/^text\/html\b/);
  expect(answer.text).toBe(GATEWAY_TIMEOUT_HTML);
}

describe.each(TRANSPORTS)('the request time limit over %s', (transport) => {
  let t: TestPortal;
  afterEach(async () => {
    await t.close();
  });

  it('a call charged 60 s answers; one charged more is cut with 504, after it ran', async () => {
    t = await startTestPortal(transport, {
      portal: {
        plan: 'off',
        processingSeconds: { 'im.notify.personal.add': 60, 'im.notify.system.add': 61 },
      },
    });
    expect((await t.hook('im.notify.personal.add', SEND)).status).toBe(200);
    expectCut(await t.hook('im.notify.system.add', SEND));
    // The cut request did its work: a client that retries it sends twice.
    expect((await t.control('GET', '/notifications')).body.total).toBe(2);
    const log = await t.control('GET', '/requests?limit=1');
    expect((log.body.requests as { status: number; error: string }[])[0]).toMatchObject({
      status: 504,
      error: 'GATEWAY_TIMEOUT',
    });
  });

  it('a batch is cut once its commands pass the limit: those that ran stay done, the rest never run', async () => {
    t = await startTestPortal(transport, {
      portal: { plan: 'off', processingSeconds: { 'im.notify.personal.add': 25, '*': 0.02 } },
    });
    const cmd = Object.fromEntries(
      Array.from({ length: 5 }, (_, i) => [`c${i}`, `im.notify.personal.add?USER_ID=2&MESSAGE=c${i}`]),
    );
    expectCut(await t.hook('batch', { cmd }));
    // 25 + 25 + 25 passes 60 s at the third command.
    const stored = await t.control('GET', '/notifications');
    expect(stored.body.total).toBe(3);
    // Two commands of 25 s fit.
    const two = await t.hook('batch', { cmd: { a: cmd.c0, b: cmd.c1 } });
    expect(two.status).toBe(200);
  });

  it('follows requestTimeLimitSeconds set through PUT /portal', async () => {
    t = await startTestPortal(transport, { portal: { plan: 'off', processingSeconds: { '*': 5 } } });
    expect((await t.hook('profile')).status).toBe(200);
    expect((await t.control('PUT', '/portal', { requestTimeLimitSeconds: 4 })).body).toMatchObject({
      requestTimeLimitSeconds: 4,
    });
    expectCut(await t.hook('profile'));
    expect((await t.control('PUT', '/portal', { requestTimeLimitSeconds: 0 })).status).toBe(400);
  });
});
