/**
 * Which credentials a command uses: flags first, then the environment, then the config file.
 * Within one source a webhook comes first, then a portal token, then OAuth. Everything found
 * is registered with the masker before it can reach any output.
 */
import { createHash } from 'node:crypto';
import { configPath, insecureMessage, readConfig, writeConfig, type OAuthConfig } from './config.js';
import { UsageError } from './errors.js';
import type { Io } from './io.js';

/** The credentials flags a command may take. */
export interface CredentialFlags {
  webhook?: string | undefined;
  portal?: string | undefined;
  token?: string | undefined;
}

/** Resolved credentials, with where they came from (for `--debug` and `config show`). */
export type Credentials =
  | { kind: 'webhook'; source: string; webhookUrl: string }
  | { kind: 'token'; source: string; portal: string; token: string }
  | { kind: 'oauth'; source: string; portal: string; oauth: OAuthConfig; fromFile: boolean };

interface Source {
  /** How to name a field of this source in messages: `--token`, `B24_TOKEN`, `config file X`. */
  label(field: 'webhook' | 'portal' | 'token' | 'oauth'): string;
  webhook?: string | undefined;
  portal?: string | undefined;
  token?: string | undefined;
  oauth?: Partial<OAuthConfig> | undefined;
}

const OAUTH_ENV = {
  clientId: 'B24_CLIENT_ID',
  clientSecret: 'B24_CLIENT_SECRET',
  accessToken: 'B24_ACCESS_TOKEN',
  refreshToken: 'B24_REFRESH_TOKEN',
} as const;

function envSource(env: Io['env']): Source {
  const oauth: Partial<OAuthConfig> = {};
  for (const [key, name] of Object.entries(OAUTH_ENV) as [keyof typeof OAUTH_ENV, string][]) {
    if (env[name]) oauth[key] = env[name];
  }
  if (env.B24_TOKEN_URL) oauth.tokenUrl = env.B24_TOKEN_URL;
  const names = {
    webhook: 'B24_WEBHOOK_URL',
    portal: 'B24_PORTAL',
    token: 'B24_TOKEN',
    oauth: 'B24_CLIENT_*',
  };
  return {
    label: (field) => names[field],
    webhook: env.B24_WEBHOOK_URL || undefined,
    portal: env.B24_PORTAL || undefined,
    token: env.B24_TOKEN || undefined,
    oauth: Object.keys(oauth).some((k) => k !== 'tokenUrl') ? oauth : undefined,
  };
}

/** Load the config file's credentials, refusing a file others can read. */
function fileSource(io: Io): Source {
  const loaded = readConfig(configPath(io.env, io.cwd));
  const { config } = loaded;
  io.masker.add(config.webhookUrl, config.token, config.oauth?.clientSecret);
  io.masker.add(config.oauth?.accessToken, config.oauth?.refreshToken);
  if (loaded.insecure && (config.webhookUrl || config.token || config.oauth)) {
    throw new UsageError(insecureMessage(loaded.path, loaded.mode), 'config');
  }
  return {
    label: () => `config file ${loaded.path}`,
    webhook: config.webhookUrl,
    portal: config.portal,
    token: config.token,
    oauth: config.oauth,
  };
}

/** How the config file names a refresh token it replaced: a hash, enough to recognise it. */
export function tokenFingerprint(refreshToken: string): string {
  return `sha256:${createHash('sha256').update(refreshToken).digest('hex')}`;
}

/**
 * The tokens an earlier run renewed from these very variables, if the config file holds them:
 * the variables' refresh token is spent, so they are the only ones that still work.
 */
function renewedFromEnv(io: Io, env: OAuthConfig): OAuthConfig | undefined {
  let loaded;
  try {
    loaded = readConfig(configPath(io.env, io.cwd));
  } catch {
    // A broken file is reported when it is the source in use; the variables still stand.
    return undefined;
  }
  const saved = loaded.config.oauth;
  if (loaded.insecure || !saved || saved.clientId !== env.clientId) return undefined;
  if (saved.renewedFrom !== tokenFingerprint(env.refreshToken)) return undefined;
  io.masker.add(saved.accessToken, saved.refreshToken, saved.clientSecret);
  return { ...env, ...saved };
}

function complete(oauth: Partial<OAuthConfig>): oauth is OAuthConfig {
  return Boolean(oauth.clientId && oauth.clientSecret && oauth.accessToken && oauth.refreshToken);
}

/**
 * Resolve the credentials to use. Throws a usage error naming what is missing when there are
 * none, or when a source gives only part of a set (a token without a portal, half the OAuth
 * variables).
 */
export function resolveCredentials(
  io: Io,
  flags: CredentialFlags,
  /**
   * Which command line the messages speak to: OPI's form has `--url` (a webhook URL, or a
   * domain with `--token`) instead of `--webhook` and `--portal`.
   */
  form: 'idiomatic' | 'opi' = 'idiomatic',
): Credentials {
  const opi = form === 'opi';
  const passPortal = opi ? 'pass --url DOMAIN' : 'pass --portal DOMAIN';
  const flagSource: Source = {
    label: (field) => `--${field}`,
    webhook: flags.webhook,
    portal: flags.portal,
    token: flags.token,
  };
  io.masker.add(flags.webhook, flags.token);
  const sources: (() => Source)[] = [() => flagSource, () => envSource(io.env), () => fileSource(io)];
  const loaded: Source[] = [];
  const load = (i: number): Source => {
    loaded[i] ??= (sources[i] as () => Source)();
    return loaded[i];
  };
  // The portal may come from any source, strongest first (--portal with $B24_TOKEN, say).
  const portalFor = (): string | undefined => {
    for (let i = 0; i < sources.length; i++) {
      const portal = load(i).portal;
      if (portal) return portal;
    }
    return undefined;
  };

  for (let i = 0; i < sources.length; i++) {
    const source = load(i);
    if (source.webhook) {
      if (i > 0 && flags.portal) {
        throw new UsageError(
          `--portal needs --token: the credentials found are a webhook (${source.label('webhook')}), which names its own portal`,
        );
      }
      return { kind: 'webhook', source: source.label('webhook'), webhookUrl: source.webhook };
    }
    if (source.token) {
      const portal = portalFor();
      if (!portal) {
        throw new UsageError(
          `${source.label('token')} needs a portal: ${passPortal} or set B24_PORTAL (e.g. example.bitrix24.com)`,
        );
      }
      return { kind: 'token', source: source.label('token'), portal, token: source.token };
    }
    if (source.oauth) {
      if (!complete(source.oauth)) {
        const missing =
          i === 1
            ? Object.entries(OAUTH_ENV)
                .filter(([key]) => !source.oauth?.[key as keyof typeof OAUTH_ENV])
                .map(([, name]) => name)
            : ['clientId', 'clientSecret', 'accessToken', 'refreshToken'].filter(
                (key) => !source.oauth?.[key as keyof OAuthConfig],
              );
        throw new UsageError(`OAuth credentials are incomplete: missing ${missing.join(', ')}`);
      }
      const portal = portalFor();
      if (!portal) throw new UsageError(`OAuth credentials need a portal: set B24_PORTAL or ${passPortal}`);
      const renewed = i === 1 ? renewedFromEnv(io, source.oauth) : undefined;
      if (renewed) {
        return {
          kind: 'oauth',
          source: `${source.label('oauth')}, with the tokens an earlier run renewed from them (config file ${configPath(io.env, io.cwd)})`,
          portal,
          oauth: renewed,
          fromFile: false,
        };
      }
      return {
        kind: 'oauth',
        source: source.label('oauth'),
        portal,
        oauth: source.oauth,
        fromFile: i === 2,
      };
    }
  }
  throw new UsageError(
    (opi
      ? 'no credentials: pass --url WEBHOOK_URL (or --url DOMAIN with --token TOKEN), '
      : 'no credentials: pass --webhook URL (or --portal and --token), ') +
      "set B24_WEBHOOK_URL, or save them once with 'b24notify config set --webhook URL'",
  );
}

/**
 * Persist renewed OAuth tokens in the config file: the old refresh token is spent, so losing
 * the new one would lock the application out. Tokens renewed from the environment are saved
 * too, marked with the variables' refresh token (hashed): later runs with the same variables,
 * which a cron job or CI keeps, pick them up from the file instead of failing.
 */
export function saveRenewedTokens(
  io: Io,
  credentials: Extract<Credentials, { kind: 'oauth' }>,
  tokens: { accessToken: string; refreshToken: string; expiresAt: number },
): void {
  io.masker.add(tokens.accessToken, tokens.refreshToken);
  const path = configPath(io.env, io.cwd);
  const current = readConfig(path).config;
  const firstFromEnv = !credentials.fromFile && credentials.oauth.renewedFrom === undefined;
  writeConfig(path, {
    ...current,
    portal: current.portal ?? credentials.portal,
    // Only the fields the file keeps: the token answer carries more (client_endpoint, …).
    oauth: {
      ...credentials.oauth,
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      expiresAt: tokens.expiresAt,
      ...(firstFromEnv ? { renewedFrom: tokenFingerprint(credentials.oauth.refreshToken) } : {}),
    },
  });
  if (firstFromEnv) {
    io.err(
      `b24notify: the access token was renewed, which spends B24_REFRESH_TOKEN; the new tokens were ` +
        `saved to ${path} (mode 0600). Later runs with the same variables use them from there; ` +
        `keep that file.\n`,
    );
  }
}
