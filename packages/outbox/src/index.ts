/**
 * A durable outbox for Bitrix24 notifications: queue them in a SQLite file, deliver them
 * through `batch` at the rate the portal's limits allow, and resume after a crash with nothing
 * lost and nothing shown twice.
 * @packageDocumentation
 */
export { OutboxError, type OutboxErrorCode } from './errors.js';
export { openOutbox, Outbox } from './outbox.js';
export type {
  DeliverOptions,
  DeliveryProgress,
  DeliveryReport,
  EntryState,
  OutboxEntry,
  OutboxNotification,
  OutboxOptions,
  OutboxStats,
} from './types.js';
