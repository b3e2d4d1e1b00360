/**
 * b24notify: Bitrix24 notifications for Node and TypeScript.
 * @packageDocumentation
 */
export { createClient, type CallOptions, type Client, type ClientOptions } from './client.js';
export type { OAuthOptions } from './auth/oauth.js';
export { DEFAULT_TOKEN_URL } from './auth/oauth.js';
export type { OAuthTokens } from './auth/types.js';
export { BATCH_LIMIT, type BatchCommand, type BatchCommands, type BatchResult } from './batch.js';
export { systemClock, type Clock } from './clock.js';
export { isIdempotent } from './idempotency.js';
export { nodeFetch } from './node-fetch.js';
export { PLANS, type IntensityLimit, type PacingOptions } from './pacing.js';
export { DEFAULT_RETRY, retryDelay, type RetryContext, type RetryPolicy } from './retry.js';
export type { Answer, TimeBlock } from './time.js';
export type { Notify } from './notify/index.js';
export { notificationCommand, type NotificationKind } from './notify/command.js';
export type * from './notify/types.js';
export * from './errors/index.js';
export * from './attach/index.js';
