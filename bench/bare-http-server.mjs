// The floor the emulator's throughput is measured against: a bare `node:http` server that reads
// the request body and answers a fixed JSON of the size the emulator answers, with the same
// headers. Started by bench/emulator.mjs over IPC, in a process of its own like the emulator.
//   env B24NOTIFY_BENCH_BARE_BYTES: the answer's length in bytes (at least 2)
//   env B24NOTIFY_BENCH_BARE_WORK=minimal: instead, the least any emulator of
//     im.notify.personal.add must do per call, with nothing else: parse the JSON body, find the
//     webhook of the path, check USER_ID, keep the notification in a Map, answer `result` and a
//     `time` block (as the emulator's, two ISO dates and five numbers) as JSON. No request log,
//     limits, scopes, faults, BB codes or indexes. It tells how far below bare node:http any
//     faithful emulator on node:http must stay.
//   → { type: 'ready', url, pid }
//   ← { type: 'stats', id }  → { id, cpuMicros }
//   ← { type: 'shutdown' }   closes the server and exits 0
import { createServer } from 'node:http';

const bytes = Math.max(2, Number(process.env.B24NOTIFY_BENCH_BARE_BYTES) || 2);
// `{"result":"xxx…"}` padded to exactly `bytes`: a JSON answer of the same length.
const pad = Math.max(0, bytes - '{"result":""}'.length);
const body = `{"result":"${'x'.repeat(pad)}"}`;

const HEADERS = ['content-type', 'application/json; charset=utf-8', 'cache-control', 'no-store'];

function bare(req, res) {
  // Read the body as any real handler must before it answers.
  req.on('data', () => {});
  req.on('end', () => {
    res.writeHead(200, [...HEADERS, 'content-length', String(Buffer.byteLength(body))]);
    res.end(body);
  });
}

const store = new Map();
const webhooks = new Map([['bench', 1]]);
let nextId = 1;

function minimal(req, res) {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const started = Date.now();
    const from = webhooks.get((req.url ?? '').split('/')[3] ?? '');
    let params;
    try {
      params = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      params = undefined;
    }
    let text;
    if (from === undefined || !Number.isInteger(params?.USER_ID)) {
      text = JSON.stringify({ error: 'ERROR_ARGUMENT', error_description: 'USER_ID or webhook' });
      res.writeHead(400, [...HEADERS, 'content-length', String(Buffer.byteLength(text))]);
    } else {
      const id = nextId++;
      store.set(id, { id, to: params.USER_ID, from, message: String(params.MESSAGE ?? ''), at: started });
      const finished = Date.now();
      text = JSON.stringify({
        result: id,
        time: {
          start: started / 1000,
          finish: finished / 1000,
          duration: (finished - started) / 1000,
          processing: 0,
          date_start: new Date(started).toISOString(),
          date_finish: new Date(finished).toISOString(),
          operating_reset_at: started / 1000 + 600,
          operating: 0,
        },
      });
      res.writeHead(200, [...HEADERS, 'content-length', String(Buffer.byteLength(text))]);
    }
    res.end(text);
  });
}

const work = process.env.B24NOTIFY_BENCH_BARE_WORK === 'minimal' ? minimal : bare;
const server = createServer(work);
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
