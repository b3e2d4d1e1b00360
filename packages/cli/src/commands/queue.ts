/**
 * `b24notify queue worker|status|resume`: the Redis queue (`@b24notify/queue`, an optional
 * dependency loaded only here) from the shell. `worker` runs one worker process until SIGTERM or
 * Ctrl+C, then stops gracefully; `status` shows what waits, per portal; `resume` un-parks one.
 */
import type { QueueStats, ResumeResult } from '@b24notify/queue';
import { defineCommand } from '../command.js';
import { CliError, EXIT, UsageError } from '../errors.js';
import { helpFlag, outputFlags } from '../flags.js';
import type { Io } from '../io.js';
import { loadQueue } from '../optional.js';
import { emit } from '../output.js';
import { intInRange } from '../parse.js';

const NAME = 'queue';
const ACTIONS = ['worker', 'status', 'resume'] as const;

/** The Redis URL: --redis, else $B24NOTIFY_REDIS_URL. Its password, if any, is a secret. */
function redisUrl(io: Io, given: string | undefined): string {
  const url = given ?? io.env.B24NOTIFY_REDIS_URL;
  if (url === undefined || url === '') {
    throw new UsageError(
      '--redis URL (or $B24NOTIFY_REDIS_URL): where the queue is, e.g. redis://127.0.0.1:6379',
      NAME,
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError('--redis: expected a URL like redis://127.0.0.1:6379', NAME);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new UsageError('--redis: expected a redis:// or rediss:// URL', NAME);
  }
  if (parsed.password) io.masker.add(parsed.password, decodeURIComponent(parsed.password));
  return url;
}

/**
 * The queue's own errors (by name: it is a package of its own) as the CLI reports them: one line,
 * Redis unreachable as a network failure, Redis refusing the password as refused credentials.
 */
function fromQueue(err: unknown): unknown {
  if (err instanceof Error && err.name === 'QueueError') {
    const code = (err as { code?: unknown }).code;
    // KEY: the variable is missing; PORTAL: an id this queue never saw (a typo, another --prefix).
    if (code === 'KEY' || code === 'PORTAL') return new UsageError(err.message, NAME);
    // The library names its option; here the flag is what to change.
    const message = err.message.replace('connectTimeoutMs', '--connect-timeout');
    if (code === 'REDIS') return new CliError(message, EXIT.network);
    if (code === 'REDIS_AUTH') return new CliError(message, EXIT.auth);
    return new CliError(message, EXIT.unexpected);
  }
  return err;
}

/** What `resume` did, in one line. */
function resumeLine(portal: string, r: ResumeResult): string {
  if (!r.resumed) return `portal ${portal} is not parked: nothing to do (${r.waiting} waiting)`;
  return `portal ${portal} resumed: ${r.waiting} waiting go again (it was parked for ${(r.reason ?? 'no reason given').replace(/\s+/g, ' ')})`;
}

export const command = defineCommand({
  meta: {
    name: NAME,
    summary: 'run a queue worker, show the queue, or resume a parked portal, on Redis',
    usage: 'queue worker | status | resume PORTAL --redis URL [options]',
    description: `Delivery for many portals from many processes, through Redis and BullMQ
(@b24notify/queue). Portals and notifications are added from code (createQueue); the portal
registry is encrypted with $B24NOTIFY_QUEUE_KEY (32 bytes: openssl rand -hex 32).

  worker   send batches for every portal whose turn it is, with every other worker on any
           machine, until SIGTERM or Ctrl+C: then the batches under way finish, are recorded,
           and the process exits 0
  status   how many notifications are pending, delayed, sending, sent, failed, refused and
           parked, per portal (--portal for one)
  resume   PORTAL: its notifications, parked because the portal refused its credentials, go
           again, once they are fixed where the workers read them (your own store, with
           resolvePortal); the workers ask for the config again. Needs no key. One line: what
           was done (--json for the object); a portal that is not parked is left alone (exit 0),
           an id the queue never saw is exit 2

Redis unreachable, not Redis, or refusing the password: each action fails within --connect-timeout
(at once for a refused password) with one line naming the address, password masked (exit 6;
4 for the password). A running worker waits out a Redis restart.`,
    examples: [
      'B24NOTIFY_QUEUE_KEY=... b24notify queue worker --redis redis://127.0.0.1:6379 --concurrency 8',
      'b24notify queue status --redis redis://127.0.0.1:6379 --portal acme',
      'b24notify queue resume acme --redis redis://127.0.0.1:6379',
    ],
  },
  positionals: true,
  completion: { words: ACTIONS },
  options: {
    redis: { type: 'string', valueName: 'URL', description: 'the Redis URL (or $B24NOTIFY_REDIS_URL)' },
    'connect-timeout': {
      type: 'string',
      valueName: 'MS',
      description: 'how long to wait for Redis to answer before giving up (default 20000; 0: no limit)',
    },
    prefix: {
      type: 'string',
      valueName: 'NAME',
      description: 'the queue\u2019s key prefix in Redis (default b24q)',
    },
    concurrency: {
      type: 'string',
      valueName: 'N',
      description: 'worker: batches under way at once (default 8)',
    },
    portal: {
      type: 'string',
      valueName: 'ID',
      description: 'status: only this portal; resume: the portal (or as the argument)',
    },
    ...outputFlags,
    ...helpFlag,
  },
  async run({ values, positionals, io }) {
    const [action, ...rest] = positionals;
    if (action === undefined || !(ACTIONS as readonly string[]).includes(action)) {
      throw new UsageError(
        action === undefined
          ? `name an action: ${ACTIONS.join(', ')}`
          : `unknown action "${action}": expected ${ACTIONS.join(', ')}`,
        NAME,
      );
    }
    const portal = action === 'resume' ? (rest.shift() ?? values.portal) : undefined;
    if (action === 'resume' && portal === undefined) {
      throw new UsageError('resume PORTAL: name the portal id whose notifications should go again', NAME);
    }
    if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`, NAME);
    const connection = redisUrl(io, values.redis);
    const key = io.env.B24NOTIFY_QUEUE_KEY;
    if (key) io.masker.add(key);
    const connectTimeoutMs =
      values['connect-timeout'] === undefined
        ? undefined
        : intInRange('--connect-timeout', values['connect-timeout'], 0, 3_600_000, NAME);
    const lib = await loadQueue();
    const common = {
      connection,
      ...(connectTimeoutMs !== undefined ? { connectTimeoutMs } : {}),
      ...(values.prefix !== undefined ? { prefix: values.prefix } : {}),
      ...(key ? { secretKey: key } : {}),
    };
    try {
      if (action === 'resume') {
        const queue = lib.createQueue(common);
        try {
          const result = await queue.resume(portal ?? '');
          if (values.json || values.pretty || values.quiet || values.out) {
            emit(io, { portal, ...result }, values, NAME, () => (result.resumed ? 'resumed' : 'not-parked'));
          } else io.out(`${resumeLine(portal ?? '', result)}\n`);
          return EXIT.ok;
        } finally {
          await queue.close();
        }
      }
      if (action === 'status') {
        const queue = lib.createQueue(common);
        try {
          if (values.portal !== undefined) {
            const stats = await queue.stats(values.portal);
            emit(io, stats, values, NAME, (s) => String((s as QueueStats).pending));
            return EXIT.ok;
          }
          const ids = await queue.knownPortals();
          const rows: [string, QueueStats][] = [];
          for (const id of ids) rows.push([id, await queue.stats(id)]);
          const total = await queue.stats();
          emit(io, { portals: Object.fromEntries(rows), total }, values, NAME, () => String(total.pending));
          return EXIT.ok;
        } finally {
          await queue.close();
        }
      }
      const concurrency =
        values.concurrency === undefined
          ? undefined
          : intInRange('--concurrency', values.concurrency, 1, 256, NAME);
      if (!key) {
        throw new UsageError(
          'set B24NOTIFY_QUEUE_KEY to the key the portal registry was written with (32 bytes, hex or base64)',
          NAME,
        );
      }
      const worker = await lib.startWorker({
        ...common,
        ...(concurrency ? { concurrency } : {}),
        onError: (err, portalId) =>
          io.err(`queue worker: portal ${portalId}: ${err.message} (trying again in 5 s)\n`),
        onConnection: (e) =>
          io.err(
            e.state === 'lost'
              ? `queue worker: lost Redis at ${e.address} (${e.reason ?? 'no reason given'}); batches wait for it, none is lost\n`
              : `queue worker: Redis at ${e.address} answers again; sending resumes\n`,
          ),
      });
      io.err(`queue worker: running (concurrency ${concurrency ?? 8}); SIGTERM or Ctrl+C stops it\n`);
      await new Promise<void>((resolve) => {
        const unlisten = io.onStop(() => {
          unlisten();
          resolve();
        });
      });
      io.err('queue worker: stopping: finishing the batches under way\n');
      await worker.close();
      io.err('queue worker: stopped\n');
      return EXIT.ok;
    } catch (err) {
      throw fromQueue(err);
    }
  },
});
