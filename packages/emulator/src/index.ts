import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { ConfigError, validatePortalConfig, validatePortals } from './config-file.js';
import { resolveConfig, type Addressing, type PortalConfig, type PortalEntry } from './config.js';
import { PortalDirectory, type HostedPortal } from './hosting.js';
import { Portal } from './portal/portal.js';
import { SqlitePersistence } from './portal/sqlite.js';
import { Store } from './portal/store.js';
import { createHostingHandler, listenerServer } from './server.js';
import { FilterError, parseFilter, type NotificationFilter } from './search.js';
import { ensureTls } from './tls.js';
import {
  DETERMINISTIC_EPOCH_MS,
  exportFixture,
  loadFixture,
  seededSettings,
  validateFixture,
  type ExportOptions,
  type Fixture,
  type FixturePortal,
} from './fixture.js';
import { waitForNotification } from './wait.js';
import type { StoredNotification } from './portal/records.js';

export type {
  Addressing,
  AppConfig,
  PortalConfig,
  PortalEntry,
  PortalsConfig,
  PortalState,
  UserConfig,
  WebhookConfig,
} from './config.js';
export { DEFAULT_USERS, resolveConfig } from './config.js';
export type { ChaosRule, ChaosSettings, Fault } from './chaos.js';
export type { LimitOverrides, LimitSettings, PlanPreset } from './limits/presets.js';
export { PRESETS } from './limits/presets.js';
export {
  ConfigError,
  loadEmulatorConfig,
  loadPortalConfig,
  validateEmulatorConfig,
  validatePortalConfig,
  validatePortals,
} from './config-file.js';
export { SYSTEM_ERRORS, type ErrorTable, type SystemErrorCode } from './errors.js';
export { CONTROL_PREFIX } from './control/router.js';
export { banner } from './banner.js';
export { clientClock, type SharedClock } from './client-clock.js';
export { Portal } from './portal/portal.js';
export type { StoredNotification, StoredTokens } from './portal/records.js';
export type { RequestLogEntry } from './portal/request-log.js';
export { dataDir, ensureTls, type TlsMaterial } from './tls.js';
export {
  FilterError,
  formatFilter,
  matchesFilter,
  parseFilter,
  type FilterSubject,
  type NotificationFilter,
} from './search.js';
export { WaitTimeoutError, type Candidate } from './wait.js';
export {
  FIXTURE_FORMAT,
  loadFixture,
  validateFixture,
  type ExportOptions,
  type Fixture,
  type FixturePortal,
} from './fixture.js';

/** Options of `waitFor`. */
export interface WaitOptions {
  /** Milliseconds before it rejects with a WaitTimeoutError; 5000 when absent. */
  timeout?: number;
  /** Give up early: the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** How to start an emulator. */
export interface EmulatorOptions {
  /**
   * Port to listen on; 0 (the default) picks a free one. With several portals addressed by
   * port, the first portal's; the others take the next ones (or free ones when this is 0).
   */
  port?: number;
  /** Address to bind; loopback by default, so nothing outside this machine can reach it. */
  host?: string;
  /**
   * Serve HTTPS with a certificate from the emulator's local CA, for `localhost`, `127.0.0.1`,
   * `::1` and, with Host addressing, each portal's `<name>.localhost` and `domain`.
   */
  https?: boolean;
  /** Where the local CA lives; defaults to the per-user data directory. */
  tlsDir?: string;
  /**
   * The portal: users, webhooks, apps, limits, faults…; unset fields take defaults. With
   * `portals`, the settings every portal shares unless its entry sets them.
   */
  portal?: Partial<PortalConfig>;
  /**
   * Several portals in one emulator, each with its own users, webhooks, apps, limits and
   * store. Names default to `portal1`, `portal2`…; domains to `<name>.localhost`.
   */
  portals?: PortalEntry[];
  /** How requests reach each of `portals`: its own port (the default) or the Host header. */
  addressing?: Addressing;
  /**
   * Keep the portal in this SQLite file across restarts; in memory when absent. With several
   * portals, one file each, named after the portal: `portal.db` → `portal.a.db`.
   */
  dataPath?: string;
  /**
   * Start from a fixture (`emu.export()`, `GET /_emulator/api/export`, or its file path): each
   * portal takes the fixture portal of its name (the first one for a single portal) — users,
   * webhooks, apps, notifications with their ids. Settings given here win over the fixture's.
   */
  seed?: Fixture | string;
  /**
   * The same state on every start: the clock stands still (at the seed's time, else
   * 2025-01-01T00:00:00Z; `PUT /clock` still moves it) and secrets the configuration or seed
   * do not give are derived from the portal's name, so ids, times and webhook URLs are stable.
   */
  deterministic?: boolean;
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

/** One portal of a running emulator, with everything a client needs to reach it. */
export interface RunningPortal {
  /** The portal's name (`default` for the only one). */
  name: string;
  /**
   * Base URL, e.g. `http://127.0.0.1:24025`. With Host addressing `http://<name>.localhost:PORT`:
   * browsers and curl resolve `*.localhost` to loopback, Node's resolver may not (send to
   * the emulator's `url` with this Host header instead).
   */
  url: string;
  /** The default webhook's URL, ending in `/`: append a method name. */
  webhookUrl: string;
  /** The domain as OPI's token form expects it (`127.0.0.1:24024`). */
  domain: string;
  /** The portal's first OAuth app and a fresh token pair for it. */
  tokens: EmulatorTokens;
  /** The portal itself, for in-process inspection and control. */
  portal: Portal;
}

/** A running emulator: its first portal's details at the top, every portal under `portals`. */
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
  /** Every portal served, in the order configured; one (`default`) unless `portals` was given. */
  portals: RunningPortal[];
  /** How requests reach each portal. */
  addressing: Addressing;
  /** The portal with this name; throws an Error listing the names when there is none. */
  portalNamed(name: string): RunningPortal;
  /**
   * A notification matching `filter` (the filter language, `'user:5 tag:invoice-*'`, or its
   * parsed form), as soon as one exists: at once when one is stored, else when it arrives.
   * A `portal:` term picks the portal; the first one otherwise. Rejects with a
   * WaitTimeoutError listing the closest candidates after `timeout` ms, or a FilterError
   * naming a bad term.
   */
  waitFor(filter: string | NotificationFilter, options?: WaitOptions): Promise<StoredNotification>;
  /** Every portal's state as a fixture for `seed` (secrets only with `{ secrets: true }`). */
  export(options?: ExportOptions): Fixture;
  /** Stop listening, drop open connections and close the data files. */
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

/** One SQLite file per portal when there are several: `portal.db` → `portal.a.db`. */
function portalDataPath(dataPath: string, name: string, many: boolean): string {
  if (!many || dataPath === ':memory:') return dataPath;
  const m = /^(.*?)(\.[^./\\]*)?$/.exec(dataPath);
  return `${m?.[1] ?? dataPath}.${name}${m?.[2] ?? ''}`;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** The URL parts of a portal and the credentials a client starts with. */
function describe(name: string, portal: Portal, url: string): RunningPortal {
  const config = portal.config;
  const hook = config.webhooks[0];
  const app = config.apps[0];
  const user = hook?.userId ?? config.users[0]?.ID ?? 1;
  const issued = app ? portal.issueTokens(app.clientId, user) : undefined;
  return {
    name,
    url,
    webhookUrl: hook ? `${url}/rest/${hook.userId}/${hook.code}/` : '',
    domain: new URL(url).host,
    tokens: {
      clientId: app?.clientId ?? '',
      clientSecret: app?.clientSecret ?? '',
      accessToken: issued?.accessToken ?? '',
      refreshToken: issued?.refreshToken ?? '',
      expiresAt: issued ? Math.floor(issued.accessExpiresAt / 1000) : 0,
      userId: user,
    },
    portal,
  };
}

function startWait(
  running: readonly RunningPortal[],
  filter: string | NotificationFilter,
  options: WaitOptions,
): Promise<StoredNotification> {
  try {
    const f = typeof filter === 'string' ? parseFilter(filter) : filter;
    const target = f.portal === undefined ? running[0] : running.find((p) => p.name === f.portal);
    if (!target) {
      const names = running.map((p) => `"${p.name}"`).join(', ');
      throw new FilterError(
        `portal:${f.portal}: no portal of that name (there are ${names})`,
        `portal:${f.portal}`,
      );
    }
    return waitForNotification(target.portal, f, options.timeout, options.signal);
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

/**
 * Start an emulator: one portal, or several (`portals`). Listens on 127.0.0.1 and a free port
 * unless told otherwise.
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  // The same checks as a config file gets, so a mistake in code is named just as clearly.
  const shared = validatePortalConfig(options.portal ?? {});
  const many = options.portals !== undefined;
  const entries: PortalEntry[] = many ? validatePortals(options.portals, shared) : [shared];
  const addressing: Addressing = options.addressing ?? 'port';
  if (addressing !== 'port' && addressing !== 'host')
    throw new ConfigError('addressing: expected "port" or "host"');
  const host = options.host ?? '127.0.0.1';
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const scheme = options.https ? 'https' : 'http';
  const stores: Store[] = [];
  const servers: Server[] = [];
  const closeAll = async (): Promise<void> => {
    await Promise.all(servers.map(closeServer));
    for (const store of stores) store.close();
  };
  const fixture =
    options.seed === undefined
      ? undefined
      : typeof options.seed === 'string'
        ? loadFixture(options.seed)
        : validateFixture(options.seed);
  if (fixture && options.dataPath) {
    throw new ConfigError('seed: a seed starts an in-memory portal; drop dataPath (--data) or the seed');
  }
  const deterministic = options.deterministic === true;
  try {
    const hosted: HostedPortal[] = entries.map((entry) => {
      const { port: _port, ...given } = entry;
      const seed: FixturePortal | undefined = fixture
        ? many
          ? fixture.portals.find((p) => p.name === given.name)
          : fixture.portals[0]
        : undefined;
      const partial =
        seed || deterministic ? validatePortalConfig(seededSettings(given, seed, deterministic)) : given;
      if (many) partial.domain ??= `${partial.name ?? 'default'}.localhost`;
      const opened = options.dataPath
        ? SqlitePersistence.open(portalDataPath(options.dataPath, partial.name ?? 'default', many))
        : undefined;
      const lastId = seed?.notifications.reduce((max, n) => Math.max(max, n.id), 0) ?? 0;
      const snapshot = seed
        ? {
            notifications: seed.notifications.map((n) => ({ ...n })),
            tokens: [],
            meta: { lastNotificationId: String(lastId) },
          }
        : opened?.snapshot;
      const store = new Store(opened?.persistence, snapshot);
      stores.push(store);
      const portal = new Portal(stableCredentials(store, partial, resolveConfig(partial)), store);
      if (deterministic) portal.clock.freeze(seed?.clockMs ?? DETERMINISTIC_EPOCH_MS);
      return { portal, url: '' };
    });
    if (addressing === 'host') {
      // The Host header is all that tells them apart: two portals on one domain would be one.
      const seen = new Map<string, string>();
      hosted.forEach(({ portal: { config } }, i) => {
        const other = seen.get(config.domain.toLowerCase());
        if (other !== undefined) {
          throw new ConfigError(
            `portals[${i}].domain: "${config.domain}" is portal "${other}"'s too: with Host addressing each portal needs a domain of its own`,
          );
        }
        seen.set(config.domain.toLowerCase(), config.name);
      });
    }
    // With Host addressing a client dials each portal by its name, which the certificate must
    // carry: `<name>.localhost` (the portal's URL) and its domain.
    const tls = options.https
      ? await ensureTls(
          options.tlsDir,
          addressing === 'host' && many
            ? hosted.flatMap(({ portal: { config } }) => [`${config.name}.localhost`, config.domain])
            : [],
        )
      : undefined;
    const directory = new PortalDirectory(addressing, hosted);
    const listeners = addressing === 'host' ? [hosted[0] as HostedPortal] : hosted;
    let listenerUrl = '';
    for (const [i, listener] of listeners.entries()) {
      const base = options.port ?? 0;
      const port = entries[i]?.port ?? (base === 0 ? 0 : base + i);
      const server = listenerServer(
        tls,
        createHostingHandler(directory, listener, tls !== undefined, () => listenerUrl || listener.url, {}),
      );
      servers.push(server);
      const bound = await listen(server, port, host);
      listener.url = `${scheme}://${hostPart}:${bound}`;
    }
    if (addressing === 'host') {
      // One listener: its own address reaches the first portal; `<name>.localhost` each one.
      listenerUrl = (hosted[0] as HostedPortal).url;
      const port = new URL(listenerUrl).port;
      if (many) for (const h of hosted) h.url = `${scheme}://${h.portal.config.name}.localhost:${port}`;
    }
    const running = hosted.map((h) => describe(h.portal.config.name, h.portal, h.url));
    const first = running[0] as RunningPortal;
    // The top level keeps the single-portal shape; with Host addressing it is the listener's
    // own address, which Node resolves everywhere, and which serves the first portal.
    const top = addressing === 'host' && many ? describe(first.name, first.portal, listenerUrl) : first;
    let closed: Promise<void> | undefined;
    return {
      url: top.url,
      webhookUrl: top.webhookUrl,
      domain: top.domain,
      tokens: top.tokens,
      ...(tls ? { caCertPath: tls.caCertPath } : {}),
      portal: first.portal,
      portals: running,
      addressing,
      portalNamed(name: string): RunningPortal {
        const found = running.find((p) => p.name === name);
        if (!found) {
          throw new Error(
            `no portal named "${name}": there are ${running.map((p) => `"${p.name}"`).join(', ')}`,
          );
        }
        return found;
      },
      export(exportOptions = {}) {
        return exportFixture(
          running.map((p) => p.portal),
          exportOptions,
        );
      },
      waitFor(filter, waitOptions = {}) {
        return startWait(running, filter, waitOptions);
      },
      close() {
        closed ??= closeAll();
        return closed;
      },
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
