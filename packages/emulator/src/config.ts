import { randomBytes } from 'node:crypto';
import type { ChaosSettings } from './chaos.js';
import type { LimitOverrides, PlanPreset } from './limits/presets.js';
import type { ErrorTable } from './errors.js';

/** A portal user. Field names are Bitrix24's, as `user.get` returns them. */
export interface UserConfig {
  ID: number;
  NAME: string;
  LAST_NAME?: string;
  EMAIL?: string;
  WORK_POSITION?: string;
  ACTIVE?: boolean;
  /** Portal administrator. */
  ADMIN?: boolean;
}

/** An inbound webhook: it acts with its owner's rights and the scopes chosen for it. */
export interface WebhookConfig {
  /** Owner user id: the first path segment of the webhook URL. */
  userId: number;
  /** The secret code: the second path segment. */
  code: string;
  /** Scopes granted, e.g. `["im", "user"]`. */
  scopes: string[];
  /** Unix seconds after which the webhook stops working (webhooks may expire). */
  expiresAt?: number;
}

/** An OAuth application installed on the portal. */
export interface AppConfig {
  clientId: string;
  clientSecret: string;
  scopes: string[];
  /** When set, only these users may use the app (others get `user_access_error`). */
  allowedUsers?: number[];
}

/** Where the portal stands commercially; anything but `active` blocks the REST API as documented. */
export type PortalState = 'active' | 'deleted' | 'overloaded' | 'free-plan';

/** Everything that describes the emulated portal. Every number of spec §1–§6 is a setting here. */
export interface PortalConfig {
  /**
   * A short name for the portal (a DNS label): how the control API (`?portal=`), the inbox's
   * portal selector and, with Host addressing, the Host header (`<name>.localhost`) find it
   * in an emulator serving several. `default` when there is only one.
   */
  name: string;
  /** The portal's domain (token answers name the portal by `client_endpoint`). */
  domain: string;
  /** The member id reported in token answers. */
  memberId: string;
  /** Time zone offset used in `date_start`/`date_finish` and notification dates, e.g. `+03:00`. */
  timezone: string;
  users: UserConfig[];
  webhooks: WebhookConfig[];
  apps: AppConfig[];
  /** Plan preset for the limits; `limits` overrides single numbers. */
  plan: PlanPreset;
  limits?: LimitOverrides;
  /** Modelled execution time per call in seconds, by method (`*` for the rest). */
  processingSeconds: Record<string, number>;
  /** Serialized ATTACH size limit in characters (older docs: 30 KB). */
  attachMaxLength: number;
  /**
   * The authorization server's host, which token answers name as `domain` and in
   * `server_endpoint` (`settings/oauth/index.md`: "domain: the authorization server's domain";
   * b24-rest-docs shows `oauth.bitrix24.tech`, b24restdocs the older `oauth.bitrix.info`; a live
   * answer of 2026 quoted in bitrix-tools/b24-rest-docs issue #285 agrees with the former).
   * Refresh requests still go to the emulator's own `/oauth/token/`.
   */
  authServer: string;
  /** Access token lifetime in seconds. */
  accessTokenTtl: number;
  /** Refresh token lifetime in seconds (newer docs: 180 days; older: 28). */
  refreshTokenTtl: number;
  /** Answer plain-http calls with 400 INVALID_REQUEST "Https required", as a cloud portal does. */
  requireHttps: boolean;
  state: PortalState;
  /** Largest request body accepted, in bytes. */
  maxBodyBytes: number;
  /** Requests kept in the inspection log. */
  requestLogSize: number;
  /**
   * Bytes the inspection log keeps, counted as request and answer sizes on the wire; the
   * oldest entries go first. Params or an answer over 64 KiB are kept as a marked preview.
   */
  requestLogBytes: number;
  /**
   * MESSAGE_OUT when absent: `empty` as the newer docs say, or `message` as the older ones did.
   */
  messageOutDefault: 'empty' | 'message';
  /**
   * How a wrong webhook is answered: `current`, 401 INVALID_CREDENTIALS as the method pages
   * show it; `legacy`, 401 NO_AUTH_FOUND as the system table alone says. Every other system
   * error has the table's status either way.
   */
  errorTable: ErrorTable;
  /**
   * A batch of more than 50 commands: `per-command` answers ERROR_BATCH_LENGTH_EXCEEDED for
   * each command past 50, as the newer docs say; `reject` refuses the whole batch with 400.
   */
  batchOverflow: 'per-command' | 'reject';
  /**
   * What a `batch` is charged to in the operating-time ledger: `per-command`, each sub-call to
   * its own method and the batch to nothing, as `limits.md` says (both repositories); `batch`,
   * every sub-call's time to the method `batch`, checked before the batch runs, as the official
   * JS SDK's maintainers measured on a live portal (b24jssdk PR #539, cited in spec §9).
   */
  batchOperating: 'per-command' | 'batch';
  /**
   * TAG and SUB_TAG sent through a webhook without CLIENT_ID, which the docs do not describe:
   * `webhook` gives the webhook a tag space of its own; `ignore` drops both, as a portal that
   * applies tags only when it knows the application (the worst case a client must survive).
   */
  tagsWithoutClientId: 'webhook' | 'ignore';
  /**
   * Whether notifications created through REST take quick replies and button presses: `none`,
   * as the docs have it (im.notify.answer and im.notify.confirm need a notification "that
   * supports quick reply" or "with buttons", which no REST send method can create), answers
   * `result_message: false` and changes nothing; `accept` records them, so a client's reply
   * path can be exercised against the inbox.
   */
  restNotificationReplies: 'none' | 'accept';
  /**
   * Items of one ATTACH GRID with different DISPLAY values: `mixed` takes them, as the docs'
   * own constructor example sends them (`…/attachments/constructor.md`, both repositories);
   * `one` answers ATTACH_ERROR, enforcing grid.md's "do not mix display formats in one GRID",
   * which the docs give as advice with no error of its own.
   */
  attachGridDisplays: 'mixed' | 'one';
  /**
   * Key case of im.notify.schema.get's answer: `upper` (`NAME`, `MODULE_ID`, `LIST`, `ID`) as
   * the page's field table and, since b24-rest-docs commit e27ff404, its answer example have
   * it; `lower` as the example had it before and the page's JS and Go snippets still read it.
   */
  schemaKeys: 'upper' | 'lower';
  /**
   * The longest a request may run, in modelled seconds, before the portal cuts it
   * (`limits.md`: 60 s on cloud). Modelled time is the `processingSeconds` of the call, or of
   * every command a batch ran; a cut request has done its work, and a cut batch the commands
   * it ran.
   */
  requestTimeLimitSeconds: number;
  chaos?: ChaosSettings;
}

function secret(bytes: number): string {
  return randomBytes(bytes)
    .toString('hex')
    .slice(0, bytes * 2);
}

/** The users a fresh portal has: enough for examples with recipients other than the caller. */
export const DEFAULT_USERS: readonly UserConfig[] = [
  {
    ID: 1,
    NAME: 'Anna',
    LAST_NAME: 'Admin',
    EMAIL: 'admin@example.test',
    WORK_POSITION: 'Administrator',
    ADMIN: true,
  },
  { ID: 2, NAME: 'Boris', LAST_NAME: 'Petrov', EMAIL: 'boris@example.test', WORK_POSITION: 'Developer' },
  { ID: 3, NAME: 'Clara', LAST_NAME: 'Smirnova', EMAIL: 'clara@example.test', WORK_POSITION: 'Accountant' },
  { ID: 5, NAME: 'Dmitry', LAST_NAME: 'Ivanov', EMAIL: 'dmitry@example.test', WORK_POSITION: 'Manager' },
  { ID: 10, NAME: 'Elena', LAST_NAME: 'Kuznetsova', EMAIL: 'elena@example.test', WORK_POSITION: 'Support' },
];

/** A complete configuration: defaults, with `partial` laid over them. Fresh secrets each call. */
export function resolveConfig(partial: Partial<PortalConfig> = {}): PortalConfig {
  return {
    name: 'default',
    domain: 'localhost',
    memberId: secret(16),
    timezone: '+00:00',
    users: DEFAULT_USERS.map((u) => ({ ...u })),
    webhooks: [{ userId: 1, code: secret(8), scopes: ['im', 'user', 'profile'] }],
    apps: [{ clientId: `local.${secret(7)}`, clientSecret: secret(24), scopes: ['im', 'user', 'profile'] }],
    plan: 'standard',
    processingSeconds: { '*': 0.02 },
    attachMaxLength: 60_000,
    authServer: 'oauth.bitrix24.tech',
    accessTokenTtl: 3600,
    refreshTokenTtl: 180 * 24 * 3600,
    requireHttps: false,
    state: 'active',
    maxBodyBytes: 8 * 1024 * 1024,
    requestLogSize: 2000,
    requestLogBytes: 32 * 1024 * 1024,
    messageOutDefault: 'empty',
    errorTable: 'current',
    batchOverflow: 'per-command',
    batchOperating: 'per-command',
    tagsWithoutClientId: 'webhook',
    restNotificationReplies: 'none',
    attachGridDisplays: 'mixed',
    requestTimeLimitSeconds: 60,
    schemaKeys: 'upper',
    ...partial,
  };
}

/**
 * How an emulator serving several portals tells their requests apart: `port` gives each
 * portal its own listener; `host` serves them all on one, chosen by the Host header
 * (`<name>.localhost`, or the portal's `domain`).
 */
export type Addressing = 'port' | 'host';

/** One portal of a many-portal emulator: its settings and, with port addressing, its port. */
export interface PortalEntry extends Partial<PortalConfig> {
  /**
   * The port of this portal's listener (port addressing only); 0 picks a free one. Unset: the
   * emulator's `port` plus the portal's index when that is not 0, else a free one.
   */
  port?: number;
}

/** Several portals in one emulator, as a config file or `startEmulator` gives them. */
export interface PortalsConfig {
  portals: PortalEntry[];
  /** `port` unless set. */
  addressing?: Addressing;
}

/** The name a portal gets when its entry gives none: `portal1`, `portal2`, … by position. */
export function defaultPortalName(index: number): string {
  return `portal${index + 1}`;
}
