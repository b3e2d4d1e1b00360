/**
 * A real Debian `redis-server` for the queue's tests: its own free port and throwaway folder,
 * killed and restarted at will (same port and folder, so an AOF is replayed on restart).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where Debian installs it (`scripts/system-deps.sh`). */
export const REDIS_SERVER = '/usr/bin/redis-server';

/** How the server keeps its data. */
export interface RedisOptions {
  /**
   * Append-only file with this fsync policy, or false for none. `always` loses nothing
   * acknowledged; `everysec` up to a second; `no` whatever the OS had not flushed. @default false
   */
  appendfsync?: 'always' | 'everysec' | 'no' | false;
  /** RDB snapshot rule, e.g. `'60 1'`; none unless given. @default '' */
  save?: string;
  /** Extra `--name value` pairs for redis-server. */
  args?: readonly string[];
  /** The port to listen on (a test that needs the address before the server runs). @default a free one */
  port?: number;
}

/** A running redis-server. */
export interface RunningRedis {
  /** `redis://127.0.0.1:PORT`. */
  readonly url: string;
  readonly port: number;
  /** Its data folder (the AOF, any dump). */
  readonly dir: string;
  /** The server's pid, or undefined while it is not running. */
  readonly pid: number | undefined;
  /** Send `signal` (default SIGKILL) and resolve once it has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Start it again on the same port and folder (after `kill`), and wait until it answers PING. */
  restart(): Promise<void>;
  /** Stop it for good (SIGTERM, then wait). Safe to call twice. */
  stop(): Promise<void>;
}

/** A loopback port nothing listens on (free a moment ago). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * One PING over a raw socket: true when the server answers +PONG, or -NOAUTH (it runs, with
 * `requirepass`); not -LOADING.
 */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    let data = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('error', () => done(false));
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      if (data.includes('\r\n')) done(data.startsWith('+PONG') || data.startsWith('-NOAUTH'));
    });
    socket.once('connect', () => socket.write('PING\r\n'));
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Start redis-server on a free loopback port with a fresh folder under
 * `B24NOTIFY_TEST_TMP` (or the system's temporary folder). Resolves once it answers PING.
 */
export async function startRedis(options: RedisOptions = {}): Promise<RunningRedis> {
  const dir = mkdtempSync(join(process.env.B24NOTIFY_TEST_TMP ?? tmpdir(), 'b24notify-redis-'));
  const port = options.port ?? (await freePort());
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    options.save ?? '',
    '--maxmemory-policy',
    'noeviction',
    '--daemonize',
    'no',
    '--logfile',
    join(dir, 'redis.log'),
    ...(options.appendfsync
      ? ['--appendonly', 'yes', '--appendfsync', options.appendfsync]
      : ['--appendonly', 'no']),
    ...(options.args ?? []),
  ];
  let child: ChildProcess | undefined;
  let stopped = false;

  async function launch(): Promise<void> {
    const proc = spawn(REDIS_SERVER, args, { stdio: 'ignore' });
    child = proc;
    let failure: Error | undefined;
    proc.once('error', (err) => (failure = err));
    proc.once('exit', (code, signal) => {
      failure ??= new Error(`redis-server exited (${signal ?? code}); see ${join(dir, 'redis.log')}`);
    });
    // Wait for state (it answers PING), bounded so a broken install fails instead of hanging.
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (failure) throw failure;
      if (await ping(port)) return;
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`redis-server on port ${port} did not answer PING within 20 s`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    get pid() {
      return child && child.exitCode === null && child.signalCode === null ? child.pid : undefined;
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (!child) return;
      const c = child;
      c.kill(signal);
      await exited(c);
    },
    async restart() {
      if (stopped) throw new Error('this redis-server was stopped for good; start another');
      if (child) {
        // Restarting a live server would find its port taken: end it first.
        child.kill('SIGKILL');
        await exited(child);
      }
      await launch();
    },
    async stop() {
      stopped = true;
      if (!child) return;
      const c = child;
      c.kill('SIGTERM');
      await exited(c);
    },
  };
}
