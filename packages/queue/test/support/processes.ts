/**
 * Queue workers as separate OS processes (test/fixtures/worker.mjs), so the multi-process tests
 * crash them for real: SIGKILL leaves whatever the worker held in Redis as it was, SIGTERM asks
 * for a graceful stop. Every wait is for a state the worker reports over IPC (ready, closed) or
 * for its exit, bounded by a generous deadline that fails with what the worker printed.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('../fixtures/worker.mjs', import.meta.url));

/** A busy 2-core machine can take long to start Node and connect; this only bounds a hang. */
const READY_DEADLINE_MS = 60_000;
const EXIT_DEADLINE_MS = 60_000;

/** What a worker process is started with. */
export interface WorkerProcessOptions {
  /** Redis URL. */
  redisUrl: string;
  /** The queue's key prefix. */
  prefix: string;
  /** The registry's key (B24NOTIFY_QUEUE_KEY). */
  secretKey: string;
  /** More startWorker options, as JSON (no functions). */
  options?: Record<string, unknown>;
  /** A name for messages. */
  name?: string;
}

/** A worker process the test can kill and restart. */
export interface WorkerProcess {
  readonly name: string;
  /** The current process's pid, or undefined while none runs. */
  readonly pid: number | undefined;
  /** Times this worker was started (1 after start, +1 per restart). */
  readonly starts: number;
  /** onTokens calls in all its lives, by portal id. */
  readonly tokens: ReadonlyMap<string, number>;
  /** Send a signal and wait for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then wait for its exit (a graceful close). Resolves with whether it said `closed`. */
  stop(): Promise<boolean>;
  /** Start it again (after kill or stop) and wait until it is ready. */
  restart(): Promise<void>;
  /** The last of what it wrote to stderr (for failure messages). */
  output(): string;
}

interface Life {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  closed: boolean;
}

/** Start a worker process and wait until it reports ready. */
export async function startWorkerProcess(opts: WorkerProcessOptions): Promise<WorkerProcess> {
  const name = opts.name ?? 'worker';
  let life: Life | undefined;
  let starts = 0;
  let stderr = '';
  const tokens = new Map<string, number>();

  async function launch(): Promise<void> {
    starts += 1;
    const child = fork(FIXTURE, [], {
      env: {
        ...process.env,
        B24Q_TEST_REDIS: opts.redisUrl,
        B24Q_TEST_PREFIX: opts.prefix,
        B24Q_TEST_OPTIONS: JSON.stringify(opts.options ?? {}),
        B24NOTIFY_QUEUE_KEY: opts.secretKey,
      },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString('utf8')).slice(-4000);
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const current: Life = { child, exited, closed: false };
    life = current;
    child.on('message', (msg: { type?: string; portalId?: string }) => {
      if (msg?.type === 'tokens' && msg.portalId)
        tokens.set(msg.portalId, (tokens.get(msg.portalId) ?? 0) + 1);
      if (msg?.type === 'closed') current.closed = true;
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${name}: not ready within ${READY_DEADLINE_MS} ms; stderr: ${stderr}`));
      }, READY_DEADLINE_MS);
      const onMessage = (msg: { type?: string; message?: string }): void => {
        if (msg?.type === 'ready') {
          clearTimeout(timer);
          child.off('message', onMessage);
          resolve();
        } else if (msg?.type === 'error') {
          clearTimeout(timer);
          reject(new Error(`${name}: startWorker failed: ${msg.message ?? ''}`));
        }
      };
      child.on('message', onMessage);
      void exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited before it was ready (${signal ?? code}); stderr: ${stderr}`));
      });
    });
  }

  async function waitExit(l: Life): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${name} did not exit within ${EXIT_DEADLINE_MS} ms; stderr: ${stderr}`)),
        EXIT_DEADLINE_MS,
      );
    });
    try {
      return await Promise.race([l.exited, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  const running = (l: Life | undefined): boolean =>
    l !== undefined && l.child.exitCode === null && l.child.signalCode === null;

  await launch();
  return {
    name,
    get pid() {
      return life && running(life) ? life.child.pid : undefined;
    },
    get starts() {
      return starts;
    },
    tokens,
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      const l = life;
      if (!l) return { code: null, signal: null };
      if (!running(l)) return l.exited;
      l.child.kill(signal);
      return waitExit(l);
    },
    async stop() {
      const l = life;
      if (!l) return false;
      if (!running(l)) return l.closed;
      l.child.kill('SIGTERM');
      await waitExit(l);
      return l.closed;
    },
    async restart() {
      if (running(life)) throw new Error(`${name} is still running: kill or stop it first`);
      await launch();
    },
    output: () => stderr,
  };
}

/** Start `n` workers with the same options, in parallel. */
export async function startWorkerProcesses(
  n: number,
  opts: Omit<WorkerProcessOptions, 'name'>,
): Promise<WorkerProcess[]> {
  const started = await Promise.allSettled(
    Array.from({ length: n }, (_, i) => startWorkerProcess({ ...opts, name: `worker ${i + 1}` })),
  );
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await stopAll(
      started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])),
      'SIGKILL',
    );
    throw failed.reason;
  }
  return started.map((r) => (r as PromiseFulfilledResult<WorkerProcess>).value);
}

/** End every worker: gracefully (SIGTERM) or not; never throws, so cleanup always completes. */
export async function stopAll(
  workers: readonly WorkerProcess[],
  how: 'SIGTERM' | 'SIGKILL' = 'SIGTERM',
): Promise<void> {
  await Promise.allSettled(workers.map((w) => (how === 'SIGTERM' ? w.stop() : w.kill('SIGKILL'))));
  // A worker that ignored SIGTERM past the deadline is killed.
  await Promise.allSettled(workers.map((w) => (w.pid !== undefined ? w.kill('SIGKILL') : undefined)));
}
