// The HTTPS half of bench/library-overhead.mjs, in a process of its own: @bitrix24/b24jssdk
// refuses plain http, and its axios trusts the emulator's CA only through NODE_EXTRA_CA_CERTS,
// which Node reads at start-up. Bare fetch and b24notify run here too, over the same transport,
// so each ratio compares calls made side by side. Started with startChild (common.mjs):
//   env B24NOTIFY_BENCH_WEBHOOK_URL (the HTTPS emulator's webhook), NODE_EXTRA_CA_CERTS
//   → { type: 'ready', variants } or { type: 'ready', error }
//   ← { type: 'run', id, calls }  → { id, results: { [variant]: { meanUs, … } }, cpuMicros } or { id, error }
//   ← { type: 'shutdown' }        exits
import { b24jssdk, b24notify, bareFetch, interleave } from './library-calls.mjs';

const url = process.env.B24NOTIFY_BENCH_WEBHOOK_URL ?? '';

function cpuMicros() {
  const cpu = process.cpuUsage();
  return cpu.user + cpu.system;
}

let variants;
try {
  variants = [bareFetch(url), await b24notify(url, false, 'b24notify'), await b24jssdk(url)];
} catch (err) {
  process.send?.({ type: 'ready', error: err instanceof Error ? err.message : String(err) });
  process.exit(1);
}

process.on('message', (msg) => {
  if (msg?.type === 'run') {
    interleave(variants, msg.calls).then(
      (results) => process.send?.({ id: msg.id, results, cpuMicros: cpuMicros() }),
      (err) => process.send?.({ id: msg.id, error: err instanceof Error ? err.message : String(err) }),
    );
  } else if (msg?.type === 'stats') {
    process.send?.({ id: msg.id, cpuMicros: cpuMicros() });
  } else if (msg?.type === 'shutdown') {
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));

process.send?.({ type: 'ready', variants: variants.map((v) => v.name), cpuMicros: cpuMicros() });
