import {
  clientClock,
  startEmulator,
  type EmulatorOptions,
  type RunningEmulator,
  type SharedClock,
} from '@b24notify/emulator';
import { createClient, type Client, type ClientOptions } from '../../src/index.js';

/** The transports the library is tested over. */
export const TRANSPORTS = ['http', 'https'] as const;
export type Transport = (typeof TRANSPORTS)[number];

/** A running emulator and helpers to make clients for it. */
export interface TestPortal {
  emu: RunningEmulator;
  transport: Transport;
  /** A client on the default webhook; pacing off unless asked for, and the shared clock. */
  webhookClient(options?: Partial<ClientOptions>): Client;
  /** A client with the OAuth app's credentials, refreshing through the emulator's token server. */
  oauthClient(
    options?: Partial<ClientOptions> & { onTokens?: NonNullable<ClientOptions['oauth']>['onTokens'] },
  ): Client;
  /** A client with a fixed token (OPI's form). */
  tokenClient(options?: Partial<ClientOptions>): Client;
  /** The emulator's inspection API. */
  control<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T>;
  clock: SharedClock;
  close(): Promise<void>;
}

/** Start an emulator over the transport (its CA is trusted through the global setup). */
export async function startPortal(transport: Transport, options: EmulatorOptions = {}): Promise<TestPortal> {
  const tlsDir = process.env.B24NOTIFY_TEST_TLS_DIR;
  const emu = await startEmulator({
    ...options,
    https: transport === 'https',
    ...(tlsDir ? { tlsDir } : {}),
    portal: { plan: 'off', ...options.portal },
  });
  const clock = clientClock(emu);
  const base = (extra: Partial<ClientOptions>): Partial<ClientOptions> => ({
    pacing: false,
    clock,
    ...extra,
  });
  return {
    emu,
    transport,
    clock,
    webhookClient: (extra = {}) => createClient({ ...base(extra), webhookUrl: emu.webhookUrl }),
    tokenClient: (extra = {}) =>
      createClient({ ...base(extra), portal: emu.url, accessToken: emu.tokens.accessToken }),
    oauthClient: ({ onTokens, ...extra } = {}) =>
      createClient({
        ...base(extra),
        portal: emu.url,
        oauth: {
          clientId: emu.tokens.clientId,
          clientSecret: emu.tokens.clientSecret,
          accessToken: emu.tokens.accessToken,
          refreshToken: emu.tokens.refreshToken,
          tokenUrl: `${emu.url}/oauth/token/`,
          ...(onTokens ? { onTokens } : {}),
        },
      }),
    async control<T>(method: string, path: string, body?: unknown): Promise<T> {
      const res = await fetch(`${emu.url}/_emulator/api${path}`, {
        method,
        ...(body === undefined
          ? {}
          : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      });
      return (await res.json()) as T;
    },
    close: () => emu.close(),
  };
}
