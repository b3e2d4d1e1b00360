import type { AddressInfo } from 'node:net';
import { validatePortalConfig } from './config-file.js';
import { resolveConfig, type PortalConfig } from './config.js';
import { Portal } from './portal/portal.js';
import { SqlitePersistence } from './portal/sqlite.js';
import { Store } from './portal/store.js';
import { createServer } from './server.js';
import { ensureTls } from './tls.js';

export type { AppConfig, PortalConfig, PortalState, UserConfig, WebhookConfig } from './config.js';
export { DEFAULT_USERS, resolveConfig } from './config.js';
export type { ChaosRule, ChaosSettings, Fault } from './chaos.js';
export type { LimitOverrides, LimitSettings, PlanPreset } from './limits/presets.js';
export { PRESETS } from './limits/presets.js';
export { ConfigError, loadPortalConfig, validatePortalConfig } from './config-file.js';
export { SYSTEM_ERRORS, type ErrorTable, type SystemErrorCode } from './errors.js';
export { CONTROL_PREFIX } from './control/router.js';
export { banner } from './banner.js';
export { clientClock, type SharedClock } from './client-clock.js';
export { Portal } from './portal/portal.js';
export type { StoredNotification, StoredTokens } from './portal/records.js';
export type { RequestLogEntry } from './portal/request-log.js';
export { dataDir, ensureTls, type TlsMaterial } from './tls.js';

/** How to start an emulator. */
export interface EmulatorOptions {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** Address to bind; loopback by default, so nothing outside this machine can reach it. */
  host?: string;
  /** Serve HTTPS with a certificate from the emulator's local CA. */
  https?: boolean;
  /** Where the local CA lives; defaults to the per-user data directory. */
  tlsDir?: string;
  /** The portal: users, webhooks, apps, limits, faults…; unset fields take defaults. */
  portal?: Partial<PortalConfig>;
  /** Keep the portal in this SQLite file across restarts; in memory when absent. */
  dataPath?: string;
}

/** Credentials of the OAuth app the emulator starts with, and a fresh token pair for it. */
export interface EmulatorTokens {
  clientId: string;
  clientSecret: string;
  accessToken: string;
  refreshToken: string;
  /** Unix seconds when the access token expires. */
  expiresAt: number;
  /** The user the tokens act for. */
  userId: number;
}

/** A running emulator. */
export interface RunningEmulator {
  /** Base URL, e.g. `https://127.0.0.1:24024`. */
  url: string;
  /** The default webhook's URL, ending in `/`: append a method name. */
  webhookUrl: string;
  /** The domain as OPI's token form expects it (`127.0.0.1:24024`). */
  domain: string;
  tokens: EmulatorTokens;
  /** With HTTPS: the CA certificate to trust (`NODE_EXTRA_CA_CERTS`). */
  caCertPath?: string;
  /** The portal itself, for in-process inspection and control. */
  portal: Portal;
  /** Stop listening, drop open connections and close the data file. */
  close(): Promise<void>;
}

/**
 * Credentials a fresh portal generates are kept with its data, so that with `--data` the
 * webhook URL and app credentials a user pasted keep working after a restart.
 */
function stableCredentials(store: Store, partial: Partial<PortalConfig>, config: PortalConfig): PortalConfig {
  const keep = (key: string, fresh: string): string => {
    const saved = store.getMeta(key);
    if (saved !== undefined) return saved;
    store.setMeta(key, fresh);
    return fresh;
  };
  const webhooks = partial.webhooks
    ? config.webhooks
    : config.webhooks.map((w, i) => ({ ...w, code: keep(`webhook.${i}.code`, w.code) }));
  const apps = partial.apps
    ? config.apps
    : config.apps.map((a, i) => ({
        ...a,
        clientId: keep(`app.${i}.clientId`, a.clientId),
        clientSecret: keep(`app.${i}.clientSecret`, a.clientSecret),
      }));
  const memberId = partial.memberId ?? keep('memberId', config.memberId);
  return { ...config, webhooks, apps, memberId };
}

/** Start an emulated portal. Listens on 127.0.0.1 and a free port unless told otherwise. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  // The same checks as a config file gets, so a mistake in code is named just as clearly.
  const partial = validatePortalConfig(options.portal ?? {});
  const opened = options.dataPath ? SqlitePersistence.open(options.dataPath) : undefined;
  const store = new Store(opened?.persistence, opened?.snapshot);
  const config = stableCredentials(store, partial, resolveConfig(partial));
  const portal = new Portal(config, store);
  const tls = options.https ? await ensureTls(options.tlsDir) : undefined;
  const host = options.host ?? '127.0.0.1';
  let base = '';
  const server = createServer(portal, tls, () => base);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    store.close();
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  base = `${tls ? 'https' : 'http'}://${hostPart}:${port}`;
  const hook = config.webhooks[0];
  const app = config.apps[0];
  const user = hook?.userId ?? config.users[0]?.ID ?? 1;
  const issued = app ? portal.issueTokens(app.clientId, user) : undefined;
  let closed: Promise<void> | undefined;
  return {
    url: base,
    webhookUrl: hook ? `${base}/rest/${hook.userId}/${hook.code}/` : '',
    domain: `${hostPart}:${port}`,
    tokens: {
      clientId: app?.clientId ?? '',
      clientSecret: app?.clientSecret ?? '',
      accessToken: issued?.accessToken ?? '',
      refreshToken: issued?.refreshToken ?? '',
      expiresAt: issued ? Math.floor(issued.accessExpiresAt / 1000) : 0,
      userId: user,
    },
    ...(tls ? { caCertPath: tls.caCertPath } : {}),
    portal,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => {
          store.close();
          resolve();
        });
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
