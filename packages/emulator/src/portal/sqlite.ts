import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import type { StoredNotification, StoredTokens } from './records.js';
import type { Persistence, StoreSnapshot } from './store.js';

/** Schema versions, applied in order; `PRAGMA user_version` records how far a file has come. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE notifications (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, data TEXT NOT NULL);
   CREATE INDEX notifications_user ON notifications (user_id);
   CREATE TABLE tokens (access_token TEXT PRIMARY KEY, refresh_token TEXT NOT NULL UNIQUE, data TEXT NOT NULL);
   CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
];

/**
 * Keeps the portal in a SQLite file across restarts. Rows hold JSON documents: the in-memory
 * store does all querying, so the file only has to survive and reload.
 */
export class SqlitePersistence implements Persistence {
  readonly #db: BetterSqlite3.Database;
  readonly #saveNotification: BetterSqlite3.Statement;
  readonly #deleteNotification: BetterSqlite3.Statement;
  readonly #saveTokens: BetterSqlite3.Statement;
  readonly #setMeta: BetterSqlite3.Statement;

  private constructor(db: BetterSqlite3.Database) {
    this.#db = db;
    this.#saveNotification = db.prepare(
      'INSERT OR REPLACE INTO notifications (id, user_id, data) VALUES (?, ?, ?)',
    );
    this.#deleteNotification = db.prepare('DELETE FROM notifications WHERE id = ?');
    this.#saveTokens = db.prepare(
      'INSERT OR REPLACE INTO tokens (access_token, refresh_token, data) VALUES (?, ?, ?)',
    );
    this.#setMeta = db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
  }

  /** Open (or create) the file and read everything it holds. */
  static open(path: string): { persistence: SqlitePersistence; snapshot: StoreSnapshot } {
    // Loaded on demand: a portal kept in memory never pays for the native module.
    const require = createRequire(import.meta.url);
    const Database = require('better-sqlite3') as typeof BetterSqlite3;
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    const version = Number(db.pragma('user_version', { simple: true }));
    for (let v = version; v < MIGRATIONS.length; v++) {
      db.transaction(() => {
        db.exec(MIGRATIONS[v] as string);
        db.pragma(`user_version = ${v + 1}`);
      })();
    }
    const notifications = (db.prepare('SELECT data FROM notifications').all() as { data: string }[]).map(
      (r) => JSON.parse(r.data) as StoredNotification,
    );
    const tokens = (db.prepare('SELECT data FROM tokens').all() as { data: string }[]).map(
      (r) => JSON.parse(r.data) as StoredTokens,
    );
    const meta: Record<string, string> = {};
    for (const r of db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]) {
      meta[r.key] = r.value;
    }
    return { persistence: new SqlitePersistence(db), snapshot: { notifications, tokens, meta } };
  }

  saveNotification(n: StoredNotification): void {
    this.#saveNotification.run(n.id, n.userId, JSON.stringify(n));
  }

  deleteNotification(id: number): void {
    this.#deleteNotification.run(id);
  }

  saveTokens(t: StoredTokens): void {
    this.#saveTokens.run(t.accessToken, t.refreshToken, JSON.stringify(t));
  }

  setMeta(key: string, value: string): void {
    this.#setMeta.run(key, value);
  }

  clear(): void {
    this.#db.exec('DELETE FROM notifications; DELETE FROM tokens; DELETE FROM meta;');
  }

  close(): void {
    this.#db.close();
  }
}
