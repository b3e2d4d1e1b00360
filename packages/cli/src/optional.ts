/**
 * The optional packages, each imported only by the commands that need it: the emulator
 * (`emulator`, `demo`), the outbox (`outbox`) and the Redis queue (`queue`). They bring SQLite
 * bindings, TLS code or BullMQ and a Redis client, which every other command would otherwise
 * pay for at start.
 */
import type * as Emulator from '@b24notify/emulator';
import type * as Outbox from '@b24notify/outbox';
import type * as Queue from '@b24notify/queue';
import { CliError, EXIT } from './errors.js';

/** The emulator module's type, without loading it. */
export type EmulatorModule = typeof Emulator;
/** The outbox module's type, without loading it. */
export type OutboxModule = typeof Outbox;
/** The queue module's type, without loading it. */
export type QueueModule = typeof Queue;

/**
 * Import an optional dependency by a name held in a variable, so the bundler leaves the import
 * to run time instead of copying the package (SQLite and all) into our build.
 */
async function importOptional<T>(name: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new CliError(
        `${name} is not installed`,
        EXIT.unexpected,
        `npm install ${name} (an optional dependency of @b24notify/cli)`,
      );
    }
    throw err;
  }
}

/** Import `@b24notify/emulator`, or explain how to install it. */
export function loadEmulator(): Promise<EmulatorModule> {
  return importOptional<EmulatorModule>('@b24notify/emulator');
}

/** Import `@b24notify/outbox`, or explain how to install it. */
export function loadOutbox(): Promise<OutboxModule> {
  return importOptional<OutboxModule>('@b24notify/outbox');
}

/** Import `@b24notify/queue`, or explain how to install it. */
export function loadQueue(): Promise<QueueModule> {
  return importOptional<QueueModule>('@b24notify/queue');
}
