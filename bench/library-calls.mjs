// The one call the library benchmarks make, `im.notify.personal.add` to user 1 through the
// emulator's webhook, done by each contender, and a runner that times the contenders call by
// call, interleaved. Used in the runner's process (plain http, bench/library-overhead.mjs) and
// in a child that trusts the emulator's CA (HTTPS, bench/library-overhead-client.mjs).
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { ROOT } from './common.mjs';

export const METHOD = 'im.notify.personal.add';
export const USER_ID = 1;
export const MESSAGE = 'Invoice [B]#1042[/B] was paid';
/** The built library, as users get it. */
export const LIBRARY_DIST = path.join(ROOT, 'packages', 'b24notify', 'dist', 'index.js');

function checkId(value, who) {
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`${who}: expected a notification id, got ${JSON.stringify(value)}`);
  }
}

/**
 * What a caller without a library writes: POST the same JSON body b24notify sends (with the
 * same headers), parse the answer as JSON.
 */
export function bareFetch(webhookUrl, name = 'fetch') {
  const url = `${webhookUrl}${METHOD}`;
  return {
    name,
    async call() {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ USER_ID, MESSAGE }),
      });
      const json = await res.json();
      return json.result;
    },
  };
}

/** b24notify from its dist: `client.notify.personal`, with the given pacing. */
export async function b24notify(webhookUrl, pacing, name) {
  const { createClient } = await import(pathToFileURL(LIBRARY_DIST).href);
  const client = createClient({ webhookUrl, pacing });
  return {
    name,
    async call() {
      const answer = await client.notify.personal({ userId: USER_ID, message: MESSAGE });
      return answer.result;
    },
  };
}

/**
 * @2bad/bitrix: got, GET with the parameters in the query string. Its client queues every call
 * behind a fixed p-queue of 2 requests per second that no option changes, so sequential calls
 * through one client would measure that queue; each call gets a fresh client instead (the first
 * calls of a queue start at once), built outside the timed part (`prepare`, timed on its own).
 */
export async function twoBad(webhookUrl, name = '2bad') {
  const { Bitrix } = await import('@2bad/bitrix');
  const restUrl = webhookUrl.replace(/\/$/, '');
  let client;
  return {
    name,
    prepare() {
      client = Bitrix(restUrl);
    },
    async call() {
      const { result } = await client.call(METHOD, { USER_ID, MESSAGE });
      return result;
    },
  };
}

/**
 * @bitrix24/b24jssdk (HTTPS only): `actions.v2.call.make`, axios POST. Its restriction manager
 * paces like b24notify's default (2/s, bursts of 50); raised out of the way here, as for
 * b24notify's "paced" variant, so its bookkeeping is priced but never waits.
 */
export async function b24jssdk(webhookUrl, name = 'b24jssdk') {
  const { B24Hook, ParamsFactory } = await import('@bitrix24/b24jssdk');
  const b24 = B24Hook.fromWebhookUrl(webhookUrl);
  b24.offClientSideWarning();
  const defaults = ParamsFactory.getDefault();
  await b24.setRestrictionManagerParams({
    ...defaults,
    rateLimit: { burstLimit: 1e6, drainRate: 1e6, adaptiveEnabled: false },
    adaptiveConfig: { ...defaults.adaptiveConfig, enabled: false },
  });
  return {
    name,
    async call() {
      const response = await b24.actions.v2.call.make({ method: METHOD, params: { USER_ID, MESSAGE } });
      if (!response.isSuccess) throw new Error(`b24jssdk: ${response.getErrorMessages().join('; ')}`);
      return response.getData()?.result;
    },
  };
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/**
 * `calls` rounds; in each, every variant makes one call, the order rotating by one every round
 * so that no variant always follows the same neighbour. Each call is timed on its own (the
 * answer is checked outside the timing). Per variant: mean, p50 and p90 µs per call, and the
 * mean µs of its untimed `prepare`, if any.
 */
export async function interleave(variants, calls) {
  const k = variants.length;
  const samples = variants.map(() => new Float64Array(calls));
  const prepareMs = variants.map(() => 0);
  for (let i = 0; i < calls; i++) {
    for (let j = 0; j < k; j++) {
      const idx = (i + j) % k;
      const v = variants[idx];
      if (v.prepare) {
        const p0 = performance.now();
        v.prepare();
        prepareMs[idx] += performance.now() - p0;
      }
      const t0 = performance.now();
      const id = await v.call();
      samples[idx][i] = performance.now() - t0;
      checkId(id, v.name);
    }
  }
  const out = {};
  variants.forEach((v, idx) => {
    const s = samples[idx];
    const sorted = Float64Array.from(s).sort();
    const total = s.reduce((a, b) => a + b, 0);
    out[v.name] = {
      meanUs: Math.round((total / calls) * 10_000) / 10,
      p50Us: Math.round(percentile(sorted, 0.5) * 10_000) / 10,
      p90Us: Math.round(percentile(sorted, 0.9) * 10_000) / 10,
      ...(v.prepare ? { prepareUs: Math.round((prepareMs[idx] / calls) * 10_000) / 10 } : {}),
    };
  });
  return out;
}
