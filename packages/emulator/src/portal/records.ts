import type { Attach } from '../attach.js';

/** Who sent a notification: a user on their own behalf, or the portal itself. */
export type NotifyType = 'personal' | 'system';

/** An answer a user gave to a notification (im.notify.answer / im.notify.confirm). */
export interface NotificationAnswer {
  kind: 'answer' | 'confirm';
  text: string;
  at: number;
}

/** A notification as the portal stores it. */
export interface StoredNotification {
  id: number;
  /** The recipient. */
  userId: number;
  /** The sender; 0 for a system notification. */
  authorId: number;
  type: NotifyType;
  message: string;
  messageOut: string;
  tag: string | null;
  subTag: string | null;
  /** The application that owns the tag: an OAuth client id, or a webhook's CLIENT_ID scope. */
  appKey: string;
  /** CLIENT_ID or OAuth client id, when there was one. */
  clientId: string | null;
  attach: Attach | null;
  read: boolean;
  /** Milliseconds since the epoch (portal clock). */
  createdAt: number;
  /** The request log entry that created it, for the inbox's "raw request" view. */
  requestId: number | null;
  answers: NotificationAnswer[];
}

/** An OAuth token pair and what it grants. */
export interface StoredTokens {
  accessToken: string;
  refreshToken: string;
  clientId: string;
  userId: number;
  scope: string[];
  /** Milliseconds since the epoch. */
  accessExpiresAt: number;
  refreshExpiresAt: number;
  /** A refresh token is single-use: the refresh answer replaces it. */
  refreshSpent: boolean;
}
