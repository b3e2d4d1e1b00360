/** An emulator, a client for it, and a fresh outbox file per test. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '@b24notify/emulator';
import Database from 'better-sqlite3';
import { createClient, type Client, type ClientOptions } from 'b24notify';

/** A fresh temporary directory under the test run's root. */
export function tempDir(prefix = 'b24notify-outbox-'): string {
  return mkdtempSync(join(process.env.B24NOTIFY_TEST_TMP ?? tmpdir(), prefix));
}

/** A path for a new outbox file. */
export function outboxPath(): string {
  return join(tempDir(), 'outbox.db');
}

/** An emulator on plain http, limits off unless the options set them. */
export function emulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  return startEmulator({ ...options, portal: { plan: 'off', ...options.portal } });
}

/** A client on the emulator's webhook; pacing off unless asked for. */
export function client(emu: RunningEmulator, options: Partial<ClientOptions> = {}): Client {
  return createClient({ pacing: false, webhookUrl: emu.webhookUrl, ...options });
}

/** The emulator's users: a notification to anyone else is answered `false` (none created). */
const USERS = [1, 2, 3, 5, 10];

/** `n` notifications to the emulator's users in turn, alternately personal and system. */
export function notifications(
  n: number,
  text = 'bulk',
): { userId: number; message: string; kind: 'personal' | 'system' }[] {
  return Array.from({ length: n }, (_, i) => ({
    userId: USERS[i % USERS.length] ?? 1,
    message: `${text} #${i}`,
    kind: i % 2 === 0 ? 'personal' : ('system' as const),
  }));
}

/** Every notification on the emulator, by tag: a tag seen twice is a duplicate. */
export function tagCounts(emu: RunningEmulator): Map<string | null, number> {
  const counts = new Map<string | null, number>();
  for (const n of emu.portal.store.all()) counts.set(n.tag, (counts.get(n.tag) ?? 0) + 1);
  return counts;
}

/** Change the outbox file behind the outbox's back, as a crash or a hand edit would leave it. */
export function tamper(path: string, sql: string, ...args: unknown[]): void {
  const db = new Database(path);
  try {
    db.pragma('busy_timeout = 5000');
    db.prepare(sql).run(...args);
  } finally {
    db.close();
  }
}
