// The floor the emulator's throughput is measured against: a bare `node:http` server that reads
// the request body and answers a fixed JSON of the size the emulator answers, with the same
// headers. Started by bench/emulator.mjs over IPC, in a process of its own like the emulator.
//   env B24NOTIFY_BENCH_BARE_BYTES: the answer's length in bytes (at least 2)
//   → { type: 'ready', url, pid }
//   ← { type: 'stats', id }  → { id, cpuMicros }
//   ← { type: 'shutdown' }   closes the server and exits 0
import { createServer } from 'node:http';

const bytes = Math.max(2, Number(process.env.B24NOTIFY_BENCH_BARE_BYTES) || 2);
// `{"result":"xxx…"}` padded to exactly `bytes`: a JSON answer of the same length.
const pad = Math.max(0, bytes - '{"result":""}'.length);
const body = `{"result":"${'x'.repeat(pad)}"}`;

const server = createServer((req, res) => {
  // Read the body as any real handler must before it answers.
  req.on('data', () => {});
  req.on('end', () => {
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
    });
    res.end(body);
  });
});
server.keepAliveTimeout = 65_000;

function shutdown() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
}

process.on('message', (msg) => {
  if (msg?.type === 'stats') {
    const cpu = process.cpuUsage();
    process.send?.({ id: msg.id, cpuMicros: cpu.user + cpu.system });
  } else if (msg?.type === 'shutdown') shutdown();
});
process.on('disconnect', shutdown);
process.on('SIGTERM', shutdown);

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  process.send?.({ type: 'ready', url: `http://127.0.0.1:${port}/`, pid: process.pid, bytes: body.length });
});
