/**
 * `b24notify outbox add|deliver|status|list|requeue`: bulk delivery from the shell through the
 * durable outbox (`@b24notify/outbox`, an optional dependency loaded only here). Queue a file of
 * notifications, deliver them in batches within the portal's limits, and run `deliver` again
 * after a crash or Ctrl+C: it resumes with nothing lost and nothing shown twice.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Outbox, OutboxNotification } from '@b24notify/outbox';
import { PLANS, type PacingOptions } from 'b24notify';
import { defineCommand } from '../command.js';
import { connect } from '../connect.js';
import { CliError, EXIT, UsageError } from '../errors.js';
import { connectionFlags, helpFlag, outputFlags, runFlags } from '../flags.js';
import type { Io } from '../io.js';
import { loadOutbox } from '../optional.js';
import { emit } from '../output.js';
import { idList, intInRange } from '../parse.js';

const NAME = 'outbox';
const ACTIONS = ['add', 'deliver', 'status', 'list', 'requeue'] as const;
type Action = (typeof ACTIONS)[number];
const STATES = ['pending', 'sending', 'sent', 'failed', 'unknown'] as const;

/** Exit code of a delivery stopped by Ctrl+C or SIGTERM, as shells report a SIGINT. */
const EXIT_INTERRUPTED = 130;

/** The outbox file: --db, else $B24NOTIFY_OUTBOX, else b24notify-outbox.db here. */
function dbPath(io: Io, db: string | undefined): string {
  return resolve(io.cwd, db ?? io.env.B24NOTIFY_OUTBOX ?? 'b24notify-outbox.db');
}

/**
 * Notifications from text: a JSON array, or JSON Lines (one object per line; blank lines and
 * lines starting with `#` skipped). Returns each with where it came from, for error messages.
 */
function parseNotifications(raw: string, source: string): { list: unknown[]; where: (i: number) => string } {
  // A byte-order mark, as Windows editors write one, is not part of the JSON.
  const text = raw.replace(/^\uFEFF/, '');
  const trimmed = text.trim();
  if (trimmed === '') throw new UsageError(`${source}: no notifications in it`, NAME);
  if (trimmed.startsWith('[')) {
    let list: unknown;
    try {
      list = JSON.parse(trimmed);
    } catch (err) {
      throw new UsageError(`${source}: not valid JSON (${(err as Error).message})`, NAME);
    }
    return { list: list as unknown[], where: (i) => `${source}: item ${i}` };
  }
  const list: unknown[] = [];
  const lines: number[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const content = line.trim();
    if (content === '' || content.startsWith('#')) return;
    try {
      list.push(JSON.parse(content));
    } catch (err) {
      throw new UsageError(`${source}: line ${i + 1}: not valid JSON (${(err as Error).message})`, NAME);
    }
    lines.push(i + 1);
  });
  return { list, where: (i) => `${source}: line ${lines[i] ?? '?'}` };
}

/** What `add` queues: the file's objects, with --system as the default kind. */
async function add(
  outbox: Outbox,
  args: string[],
  system: boolean,
  io: Io,
): Promise<{ queued: number; firstId?: number | undefined; lastId?: number | undefined; stats: unknown }> {
  if (args.length !== 1) {
    throw new UsageError('name one file of notifications, or - for stdin: outbox add FILE', NAME);
  }
  const file = args[0] ?? '-';
  let text: string;
  if (file === '-') text = await io.readStdin();
  else {
    try {
      text = readFileSync(resolve(io.cwd, file), 'utf8');
    } catch (err) {
      throw new UsageError(
        `${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
        NAME,
      );
    }
  }
  const source = file === '-' ? 'stdin' : file;
  const { list, where } = parseNotifications(text, source);
  if (!Array.isArray(list)) throw new UsageError(`${source}: expected a JSON array or JSON Lines`, NAME);
  const items = list.map((item, i) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      throw new UsageError(`${where(i)}: expected an object like {"userId": 1, "message": "..."}`, NAME);
    }
    return { ...(system ? { kind: 'system' } : {}), ...item } as OutboxNotification;
  });
  try {
    const ids = outbox.add(items);
    return { queued: ids.length, firstId: ids[0], lastId: ids.at(-1), stats: outbox.stats() };
  } catch (err) {
    // The outbox names the message as notifications[i]; say where it is in the file instead.
    const match = err instanceof Error && /^notifications\[(\d+)\]\.?(.*)$/s.exec(err.message);
    if (match) throw new UsageError(`${where(Number(match[1]))}: ${match[2]}`, NAME);
    throw err;
  }
}

/**
 * The outbox's own errors as the CLI reports them: a file that cannot be an outbox is a usage
 * error (the path is the user's to fix); a file another delivery holds is not. By name, as the
 * outbox is a package of its own.
 */
function fromOutbox(err: unknown): unknown {
  if (!(err instanceof Error) || err.name !== 'OutboxError') return err;
  const code = (err as { code?: unknown }).code;
  if (code === 'FILE') return new UsageError(err.message, NAME);
  return new CliError(
    err.message,
    EXIT.unexpected,
    code === 'BUSY' ? 'one delivery per outbox file at a time: wait for it, or use another --db' : undefined,
  );
}

/** Pacing for the portal's plan: the portal's own numbers, so no batch is refused for them. */
function pacingFor(plan: string | undefined): PacingOptions {
  if (plan === undefined) return {};
  if (plan === 'standard' || plan === 'enterprise') return { plan };
  throw new UsageError(`--plan: expected ${Object.keys(PLANS).join(' or ')}, got "${plan}"`, NAME);
}

export const command = defineCommand({
  meta: {
    name: NAME,
    summary: 'queue notifications in a file and deliver them in batches, resumably',
    usage: 'outbox add FILE|- | deliver | status | list | requeue [options]',
    description: `Bulk delivery through a durable outbox, a SQLite file (--db, else $B24NOTIFY_OUTBOX,
else ./b24notify-outbox.db):

  add FILE     queue the notifications in FILE (- for stdin): a JSON array or JSON Lines of
               {"userId": 5, "message": "...", "kind": "system", "tag": "...", "attach": [...]}
  deliver      send what is queued through batch, 50 per request, paced for the portal's plan;
               run it again after Ctrl+C or a crash: it resumes, and a message caught mid-send
               goes again under its tag, which replaces the first copy instead of showing two
  status       how many messages are pending, sent, failed, unknown
  list         the messages (--state to pick one state), with ids and errors
  requeue      put --state failed (or unknown) messages back in line, all or --id N,...

deliver exits 0 when everything was sent, 3 when some messages failed or ended unknown, 130
when stopped by Ctrl+C (the rest stays queued), and as any command for credentials or network.
Progress goes to stderr on a terminal, or with --progress.`,
    examples: [
      'b24notify outbox add notifications.jsonl',
      'jq -c \'.[] | {userId: .id, message: "Maintenance at 22:00", kind: "system"}\' users.json | b24notify outbox add -',
      'b24notify outbox deliver --webhook "$B24_WEBHOOK_URL" --plan standard',
      'b24notify outbox list --state failed',
      'b24notify outbox requeue --state failed --id 17,18',
    ],
  },
  positionals: true,
  completion: { words: ACTIONS },
  options: {
    db: { type: 'string', valueName: 'FILE', description: 'the outbox file (created if missing)' },
    system: {
      type: 'boolean',
      description: 'add: send as system notifications unless "kind" says otherwise',
    },
    plan: {
      type: 'string',
      valueName: 'PLAN',
      description: "deliver: the portal's limits, standard (default) or enterprise",
    },
    concurrency: {
      type: 'string',
      valueName: 'N',
      description: 'deliver: batches under way at once (default 4)',
    },
    'batch-size': {
      type: 'string',
      valueName: 'N',
      description: 'deliver: messages per batch, 1 to 50 (default 50)',
    },
    once: {
      type: 'boolean',
      description: 'deliver: stop when nothing is due now instead of waiting for back-offs',
    },
    progress: { type: 'boolean', description: 'deliver: progress on stderr even when not on a terminal' },
    state: { type: 'string', valueName: 'STATE', description: `list, requeue: ${STATES.join(', ')}` },
    id: { type: 'string', valueName: 'N,...', description: 'requeue: only these message ids' },
    limit: {
      type: 'string',
      valueName: 'N',
      description: 'list: at most N messages (default 100, at most 1000)',
    },
    after: { type: 'string', valueName: 'ID', description: 'list: messages after this id (the next page)' },
    ...connectionFlags,
    ...outputFlags,
    debug: runFlags.debug,
    ...helpFlag,
  },
  async run({ values, positionals, io }) {
    const [action, ...args] = positionals;
    if (action === undefined || !(ACTIONS as readonly string[]).includes(action)) {
      throw new UsageError(
        action === undefined
          ? `name an action: ${ACTIONS.join(', ')}`
          : `unknown action "${action}": expected ${ACTIONS.join(', ')}`,
        NAME,
      );
    }
    if (action !== 'add' && args.length > 0) throw new UsageError(`unexpected argument "${args[0]}"`, NAME);
    const state = values.state;
    if (state !== undefined && !(STATES as readonly string[]).includes(state)) {
      throw new UsageError(`--state: expected one of ${STATES.join(', ')}, got "${state}"`, NAME);
    }
    const { openOutbox } = await loadOutbox();
    let outbox: Outbox;
    try {
      outbox = openOutbox(dbPath(io, values.db));
    } catch (err) {
      throw fromOutbox(err);
    }
    try {
      return await act(action as Action);
    } catch (err) {
      throw fromOutbox(err);
    } finally {
      outbox.close();
    }

    async function act(a: Action): Promise<number> {
      switch (a) {
        case 'add':
          {
            const added = await add(outbox, args, values.system === true, io);
            emit(
              io,
              added,
              values,
              NAME,
              (r) => String((r as { queued: number }).queued),
              `${added.queued} messages WERE queued`,
            );
          }
          return EXIT.ok;
        case 'status':
          emit(io, outbox.stats(), values, NAME, (s) => String((s as { pending: number }).pending));
          return EXIT.ok;
        case 'list': {
          const limit = values.limit === undefined ? 100 : intInRange('--limit', values.limit, 1, 1000, NAME);
          const afterId =
            values.after === undefined
              ? 0
              : intInRange('--after', values.after, 0, Number.MAX_SAFE_INTEGER, NAME);
          const entries = outbox.entries({
            ...(state ? { state: state as (typeof STATES)[number] } : {}),
            limit,
            afterId,
          });
          emit(io, entries, values, NAME, (list) => (list as { id: number }[]).map((e) => e.id).join('\n'));
          return EXIT.ok;
        }
        case 'requeue': {
          if (state !== 'failed' && state !== 'unknown') {
            throw new UsageError(
              '--state failed or --state unknown: which messages to put back in line',
              NAME,
            );
          }
          const ids = values.id === undefined ? undefined : idList('--id', values.id, NAME);
          const requeued = outbox.requeue(state, ids);
          emit(
            io,
            { requeued, stats: outbox.stats() },
            values,
            NAME,
            () => String(requeued),
            `${requeued} messages WERE requeued`,
          );
          return EXIT.ok;
        }
        case 'deliver':
          return deliver();
      }
    }

    async function deliver(): Promise<number> {
      const pacing = pacingFor(values.plan);
      const concurrency =
        values.concurrency === undefined
          ? undefined
          : intInRange('--concurrency', values.concurrency, 1, 64, NAME);
      const batchSize =
        values['batch-size'] === undefined
          ? undefined
          : intInRange('--batch-size', values['batch-size'], 1, 50, NAME);
      const { client } = connect(io, values, NAME, { pacing });
      const stop = new AbortController();
      const unlisten = io.onStop(() => stop.abort());
      const total = outbox.stats();
      const showProgress = values.progress === true || io.isTTY;
      try {
        const report = await outbox.deliver(client, {
          signal: stop.signal,
          waitForDue: values.once !== true,
          ...(concurrency ? { concurrency } : {}),
          ...(batchSize ? { batchSize } : {}),
          ...(showProgress
            ? {
                onProgress: (p) =>
                  io.err(
                    `outbox: ${p.stats.sent} sent, ${p.stats.pending + p.stats.sending} to go, ${p.stats.failed} failed (${p.batches} batches)\n`,
                  ),
              }
            : {}),
        });
        emit(
          io,
          report,
          values,
          NAME,
          (r) => String((r as { sent: number }).sent),
          `the delivery ran (${report.sent} sent)`,
        );
        if (stop.signal.aborted) {
          io.err(
            `outbox: stopped; ${report.stats.pending} messages stay queued: run deliver again to go on\n`,
          );
          return EXIT_INTERRUPTED;
        }
        if (report.failed > 0 || report.unknown > 0) {
          io.err(
            `outbox: ${report.failed} failed, ${report.unknown} unknown of ${total.pending + total.sending}: see "b24notify outbox list --state failed"\n`,
          );
          return EXIT.api;
        }
        return EXIT.ok;
      } finally {
        unlisten();
      }
    }
  },
});
