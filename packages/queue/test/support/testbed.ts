/**
 * The setup every in-process queue test file shares: one redis-server and its emulators for the
 * whole file, one secret key, and a closer emptied after each test.
 */
import type { EmulatorOptions, RunningEmulator } from '@b24notify/emulator';
import type { NotificationQueue, QueueOptions, QueueWorker, WorkerOptions } from '@b24notify/queue';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { Closer, emulator, newKey, queueOn, workerOn } from './queue.js';
import { startRedis, type RedisOptions, type RunningRedis } from './redis.js';

/** What differs between the files that use {@link useQueueTestbed}. */
export interface QueueTestbedOptions<Name extends string> {
  /** How the file's redis-server keeps its data. @default {} (in memory only) */
  redis?: RedisOptions;
  /**
   * The file's emulators, by name, started in this order (`emulator()`: limits off unless set);
   * `{}` for none. @default { emu: {} }
   */
  emulators?: Record<Name, EmulatorOptions>;
}

/** The file's fixtures; each getter throws until `beforeAll` has started what it names. */
export interface QueueTestbed<Name extends string> {
  /** The file's redis-server. */
  readonly redis: RunningRedis;
  /** The emulator named `emu` (the default single one). */
  readonly emu: RunningEmulator;
  /** Every emulator of the file, by the name given in the options. */
  readonly emulators: Readonly<Record<Name, RunningEmulator>>;
  /** The secret key of the file's queues and workers. */
  readonly key: string;
  /** What a test opened, closed after it (last opened first). */
  readonly closer: Closer;
  /** `queueOn` with the file's closer, redis and key. */
  queue(options?: Partial<QueueOptions>): NotificationQueue;
  /** `workerOn` with the file's closer, redis and key. */
  worker(options?: Partial<WorkerOptions>): Promise<QueueWorker>;
}

/**
 * Register the file's hooks and return its fixtures: `beforeAll` starts redis-server, then the
 * emulators in order; `afterEach` closes what the test added to the closer; `afterAll` closes the
 * emulators, then stops redis-server. Call it once, at the top of a test file, before the file's
 * own hooks: vitest runs `beforeAll` hooks in order and `afterAll` hooks in reverse, so the
 * file's own `beforeAll` finds redis running and its own `afterAll` runs while it still does.
 *
 * @example
 * const bed = useQueueTestbed({ emulators: { emu: { portal: { plan: 'standard' } } } });
 * test('…', async () => {
 *   const queue = bed.queue({ prefix: 'p' });
 *   await queue.portals.set('acme', { webhookUrl: bed.emu.webhookUrl });
 * });
 */
export function useQueueTestbed<Name extends string = 'emu'>(
  options: QueueTestbedOptions<Name> = {},
): QueueTestbed<Name> {
  const specs = Object.entries<EmulatorOptions>(options.emulators ?? { emu: {} });
  const key = newKey();
  const closer = new Closer();
  let redis: RunningRedis | undefined;
  const emulators: Partial<Record<string, RunningEmulator>> = {};

  beforeAll(async () => {
    redis = await startRedis(options.redis);
    for (const [name, emuOptions] of specs) emulators[name] = await emulator(emuOptions);
  });
  afterEach(() => closer.closeAll());
  afterAll(async () => {
    for (const [name] of specs) await emulators[name]?.close();
    await redis?.stop();
  });

  // A getter read at module load (outside a hook or test) would see nothing yet: say so.
  const started = <T>(thing: T | undefined, what: string): T => {
    if (thing === undefined) throw new Error(`${what} is not started: read it inside a test or hook`);
    return thing;
  };
  const emulatorNamed = (name: string): RunningEmulator => {
    if (!specs.some(([n]) => n === name)) throw new Error(`no emulator named ${name} in this testbed`);
    return started(emulators[name], `emulator ${name}`);
  };
  return {
    get redis() {
      return started(redis, 'redis-server');
    },
    get emu() {
      return emulatorNamed('emu');
    },
    get emulators() {
      return Object.fromEntries(specs.map(([name]) => [name, emulatorNamed(name)])) as Record<
        Name,
        RunningEmulator
      >;
    },
    key,
    closer,
    queue: (queueOptions) => queueOn(closer, started(redis, 'redis-server').url, key, queueOptions),
    worker: (workerOptions) => workerOn(closer, started(redis, 'redis-server').url, key, workerOptions),
  };
}
