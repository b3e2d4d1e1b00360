/**
 * The outbox's SQLite file: the schema, its migrations, and every statement the outbox runs.
 * Nothing else touches the database, so the meaning of each state lives here and in types.ts.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { fileProblem, OutboxError } from './errors.js';
import type { EntryState } from './types.js';

/** One row of `messages`, as SQLite returns it. */
export interface MessageRow {
  id: number;
  method: string;
  params: string;
  auto_tag: number;
  state: EntryState;
  attempts: number;
  not_before: number;
  notification_id: number | null;
  error_code: string | null;
  error_description: string | null;
  created_at: number;
  updated_at: number;
}

/** What became of one message in a delivery: its new state and what goes with it. */
export interface Outcome {
  id: number;
  state: EntryState;
  notificationId?: number;
  /** Not to be sent again before this time (ms since the epoch). */
  notBefore?: number;
  error?: { code: string; description: string };
  /** Give the attempt back: a limit said "later", so nothing was really tried. */
  refund?: boolean;
}

/** Who is delivering from the file: one process at a time. */
export interface DeliveryLock {
  owner: string;
  pid: number;
  host: string;
  heartbeat: number;
}

/** Each entry is a schema version; `user_version` says how many have run. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE messages (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     method TEXT NOT NULL,
     params TEXT NOT NULL,
     auto_tag INTEGER NOT NULL,
     state TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     not_before INTEGER NOT NULL DEFAULT 0,
     notification_id INTEGER,
     error_code TEXT,
     error_description TEXT,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE INDEX messages_by_state ON messages (state, not_before, id);`,
];

/** The SQLite file and its prepared statements. */
export class Store {
  readonly db: Database.Database;
  /** This file's own id, part of every automatic tag, so two outboxes never share a tag. */
  readonly uid: string;

  constructor(path: string) {
    try {
      // The file holds what the notifications say: readable by its owner only. SQLite gives
      // its -wal and -shm files the database file's mode.
      if (path !== ':memory:' && !path.startsWith('file:')) {
        closeSync(openSync(path, 'a', 0o600));
      }
      this.db = new Database(path);
    } catch (err) {
      throw fileProblem(path, err);
    }
    try {
      this.db.pragma('journal_mode = WAL');
      // A commit reaches the disk before add() returns: "queued" must survive a power cut.
      this.db.pragma('synchronous = FULL');
      // Another process may hold the write lock for a moment (its own claim or record).
      this.db.pragma('busy_timeout = 5000');
      this.#migrate(path);
      this.uid = this.#meta('uid') ?? this.#initUid();
    } catch (err) {
      this.db.close();
      throw err instanceof OutboxError ? err : fileProblem(path, err);
    }
  }

  #migrate(path: string): void {
    const version = Number(this.db.pragma('user_version', { simple: true }));
    if (version > MIGRATIONS.length) {
      throw new OutboxError(
        'FILE',
        `cannot open the outbox ${path}: a newer @b24notify/outbox wrote it (schema ${version}, this one knows ${MIGRATIONS.length}): upgrade the package`,
      );
    }
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v] ?? '');
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  #meta(key: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as
      { value: string } | undefined;
    return row?.value;
  }

  #initUid(): string {
    const uid = randomBytes(6).toString('hex');
    // INSERT OR IGNORE: a second process opening a new file at the same moment keeps the first uid.
    this.db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('uid', ?)").run(uid);
    return this.#meta('uid') ?? uid;
  }

  /** Insert messages in one transaction; `tag(id)` gives the automatic TAG of a row that needs one. */
  insert(
    items: readonly { method: string; params: Record<string, unknown>; autoTag: boolean }[],
    tag: (id: number) => string,
    now: number,
  ): number[] {
    const insert = this.db.prepare(
      `INSERT INTO messages (method, params, auto_tag, state, created_at, updated_at)
       VALUES (?, ?, ?, 'pending', ?, ?)`,
    );
    const setParams = this.db.prepare('UPDATE messages SET params = ? WHERE id = ?');
    return this.db.transaction(() =>
      items.map((item) => {
        const id = Number(
          insert.run(item.method, JSON.stringify(item.params), item.autoTag ? 1 : 0, now, now)
            .lastInsertRowid,
        );
        // The tag names the row, so it is known only once the row exists.
        if (item.autoTag) setParams.run(JSON.stringify({ ...item.params, TAG: tag(id) }), id);
        return id;
      }),
    )();
  }

  /** Take up to `limit` due pending messages, oldest first, marking them sending. */
  claim(limit: number, now: number): MessageRow[] {
    return this.db
      .prepare(
        `UPDATE messages SET state = 'sending', attempts = attempts + 1, updated_at = ?
         WHERE id IN (SELECT id FROM messages WHERE state = 'pending' AND not_before <= ?
                      ORDER BY id LIMIT ?)
         RETURNING *`,
      )
      .all(now, now, limit) as MessageRow[];
  }

  /** Record what became of messages, all in one transaction. */
  settle(outcomes: readonly Outcome[], now: number): void {
    const update = this.db.prepare(
      `UPDATE messages SET state = ?, notification_id = COALESCE(?, notification_id),
         not_before = ?, error_code = ?, error_description = ?, updated_at = ?,
         attempts = MAX(0, attempts - ?)
       WHERE id = ?`,
    );
    this.db.transaction(() => {
      for (const o of outcomes) {
        update.run(
          o.state,
          o.notificationId ?? null,
          o.notBefore ?? 0,
          o.error?.code ?? null,
          o.error?.description ?? null,
          now,
          o.refund ? 1 : 0,
          o.id,
        );
      }
    })();
  }

  /**
   * Messages a dead delivery left in `sending`: tagged ones go back to pending (re-sending a
   * tagged notification replaces the copy that may have arrived), untagged ones become unknown.
   */
  recover(now: number): { requeued: number; unknown: number } {
    return this.db.transaction(() => {
      const requeued = this.db
        .prepare(
          `UPDATE messages SET state = 'pending', not_before = 0, updated_at = ?
           WHERE state = 'sending' AND (auto_tag = 1 OR json_extract(params, '$.TAG') IS NOT NULL)`,
        )
        .run(now).changes;
      const unknown = this.db
        .prepare(
          `UPDATE messages SET state = 'unknown', updated_at = ?,
             error_code = 'DELIVERY_UNKNOWN',
             error_description = 'a delivery stopped while this untagged message was being sent'
           WHERE state = 'sending'`,
        )
        .run(now).changes;
      return { requeued, unknown };
    })();
  }

  /** How many messages are in each state. */
  counts(): Record<EntryState, number> {
    const counts: Record<EntryState, number> = { pending: 0, sending: 0, sent: 0, failed: 0, unknown: 0 };
    const rows = this.db.prepare('SELECT state, COUNT(*) AS n FROM messages GROUP BY state').all() as {
      state: EntryState;
      n: number;
    }[];
    for (const row of rows) counts[row.state] = row.n;
    return counts;
  }

  /** When the next pending message falls due, or undefined when none is pending. */
  nextDue(): number | undefined {
    const row = this.db
      .prepare("SELECT MIN(not_before) AS at FROM messages WHERE state = 'pending'")
      .get() as {
      at: number | null;
    };
    return row.at ?? undefined;
  }

  /** Messages by id, optionally of one state, after `afterId`. */
  list(state: EntryState | undefined, afterId: number, limit: number): MessageRow[] {
    return (
      state === undefined
        ? this.db.prepare('SELECT * FROM messages WHERE id > ? ORDER BY id LIMIT ?').all(afterId, limit)
        : this.db
            .prepare('SELECT * FROM messages WHERE state = ? AND id > ? ORDER BY id LIMIT ?')
            .all(state, afterId, limit)
    ) as MessageRow[];
  }

  /** Put failed or unknown messages back in line, with their attempts reset. */
  requeue(state: 'failed' | 'unknown', ids: readonly number[] | undefined, now: number): number {
    const set = `UPDATE messages SET state = 'pending', attempts = 0, not_before = 0,
                   error_code = NULL, error_description = NULL, updated_at = ?
                 WHERE state = ?`;
    if (ids === undefined) return this.db.prepare(set).run(now, state).changes;
    const one = this.db.prepare(`${set} AND id = ?`);
    return this.db.transaction(() => ids.reduce((n, id) => n + one.run(now, state, id).changes, 0))();
  }

  /** Delete sent messages, or those of another finished state, last updated before `before`. */
  purge(state: 'sent' | 'failed' | 'unknown', before: number): number {
    return this.db.prepare('DELETE FROM messages WHERE state = ? AND updated_at < ?').run(state, before)
      .changes;
  }

  /** The delivery lock as stored, if any. */
  lock(): DeliveryLock | undefined {
    const value = this.#meta('delivery');
    return value === undefined ? undefined : (JSON.parse(value) as DeliveryLock);
  }

  /**
   * Take the delivery lock unless `isLive` says its holder still runs. Atomic across processes:
   * the read and the write are one immediate transaction.
   */
  takeLock(mine: DeliveryLock, isLive: (lock: DeliveryLock) => boolean): DeliveryLock | undefined {
    return this.db
      .transaction((): DeliveryLock | undefined => {
        const held = this.lock();
        if (held && held.owner !== mine.owner && isLive(held)) return held;
        this.db
          .prepare(
            "INSERT INTO meta (key, value) VALUES ('delivery', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
          )
          .run(JSON.stringify(mine));
        return undefined;
      })
      .immediate();
  }

  /** Renew the lock's heartbeat, if it is still ours. */
  beat(owner: string, now: number): void {
    const held = this.lock();
    if (held?.owner !== owner) return;
    this.db
      .prepare("UPDATE meta SET value = ? WHERE key = 'delivery'")
      .run(JSON.stringify({ ...held, heartbeat: now }));
  }

  /** Give the lock up, if it is still ours. */
  releaseLock(owner: string): void {
    if (this.lock()?.owner === owner) this.db.prepare("DELETE FROM meta WHERE key = 'delivery'").run();
  }

  close(): void {
    this.db.close();
  }
}
