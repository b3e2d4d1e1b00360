/**
 * From flags to a b24notify client, and one way to run a call and print its answer. `--debug`
 * and `--test` are a `fetch` wrapped around the library's, so they show exactly what goes over
 * the wire (the library's own validation runs first, even with `--test`), masked.
 */
import { createClient, type Client, type ClientOptions } from 'b24notify';
import type { Values } from './command.js';
import { resolveCredentials, saveRenewedTokens, type Credentials } from './credentials.js';
import type { callFlags } from './flags.js';
import type { Io } from './io.js';
import { nodeFetch } from 'b24notify';
import { smallResponse, urlOf } from './http-fetch.js';
import { UsageError } from './errors.js';
import { emit } from './output.js';
import { intInRange, positiveInt } from './parse.js';

/** The flag values every calling command has. */
export type CallValues = Values<typeof callFlags>;

/** A connected command: its client, and how to run a call through it. */
export interface Session {
  readonly client: Client;
  readonly credentials: Credentials;
  /**
   * Run `call` and print its answer (with `--test`: the request it would have sent, and send
   * nothing). Resolves to the exit code; errors propagate to `main`'s report.
   */
  execute<T>(
    call: (client: Client) => Promise<T>,
    quiet?: (answer: T) => string,
    /** What the call did, for the report when `--out` fails after it: `notification 5 WAS delivered`. */
    done?: (answer: T) => string,
  ): Promise<number>;
}

/** What the credentials are and where they came from, never the secret itself. */
export function describeCredentials(c: Credentials): string {
  if (c.kind === 'webhook') return `webhook from ${c.source}`;
  if (c.kind === 'token') return `access token for ${c.portal} from ${c.source}`;
  return `OAuth application for ${c.portal} from ${c.source}`;
}

/** The REST method a request URL names (its last path segment). */
function methodOf(url: string): string {
  return new URL(url).pathname.split('/').filter(Boolean).pop() ?? '';
}

/** A request body as logged: JSON parsed so its credential fields can be masked by key. */
function bodyOf(body: unknown): unknown {
  if (typeof body !== 'string') return body === undefined || body === null ? undefined : String(body);
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return body;
  }
}

/** A `fetch` that logs each request and answer on stderr, masked. */
export function debugFetch(io: Io, base: typeof fetch): typeof fetch {
  return async (input, init) => {
    const url = urlOf(input);
    const started = Date.now();
    io.err(`debug: -> POST ${url} ${JSON.stringify(io.masker.value(bodyOf(init?.body)))}\n`);
    try {
      const res = await base(input, init);
      const text = await res
        .clone()
        .text()
        .catch((err: unknown) => `(answer cut off: ${(err as Error).message})`);
      io.err(`debug: <- HTTP ${res.status} in ${Date.now() - started} ms ${text}\n`);
      return res;
    } catch (err) {
      io.err(`debug: <- failed after ${Date.now() - started} ms: ${(err as Error).message}\n`);
      throw err;
    }
  };
}

/** One request captured by `--test`. */
export interface Captured {
  method: string;
  url: string;
  body: unknown;
}

/**
 * A `fetch` for `--test`: records the request and answers like a portal that created nothing,
 * so the library completes the call without anything leaving the machine.
 */
export function testFetch(captured: Captured[]): typeof fetch {
  return (input, init) => {
    const url = urlOf(input);
    captured.push({ method: methodOf(url), url, body: bodyOf(init?.body) });
    return Promise.resolve(smallResponse(200, JSON.stringify({ result: null })));
  };
}

/**
 * The library refuses a portal on this machine without a token URL (a refresh would go to
 * Bitrix24's server on the internet); say it in this command line's words.
 */
function checkTokenUrl(portal: string, command: string): void {
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(portal) ? portal : `https://${portal}`);
  } catch {
    return;
  }
  if (!/^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i.test(url.hostname)) return;
  throw new UsageError(
    `the portal ${url.host} is on this machine, but no OAuth token URL is set, so a refresh would go ` +
      `to Bitrix24's own server: set B24_TOKEN_URL (or 'b24notify config set --token-url URL'), ` +
      `for the b24notify emulator ${url.origin}/oauth/token/`,
    command,
  );
}

/** The client settings the connection and run flags ask for. */
function settings(values: CallValues, command: string): Partial<ClientOptions> {
  const options: Partial<ClientOptions> = {};
  if (values.timeout !== undefined) options.timeout = positiveInt('--timeout', values.timeout, command);
  if (values.retries !== undefined) {
    options.retry = { limit: intInRange('--retries', values.retries, 0, 20, command) };
  }
  return options;
}

/** Resolve the credentials (flags > environment > config file) and build the client. */
export function connect(
  io: Io,
  values: CallValues,
  command: string,
  /** Client settings of the command's own (the outbox's pacing plan). */
  extra: Partial<ClientOptions> = {},
): Session {
  const options = { ...extra, ...settings(values, command) };
  const credentials = resolveCredentials(io, values);
  const captured: Captured[] = [];
  const fetchImpl = values.test ? testFetch(captured) : values.debug ? debugFetch(io, nodeFetch) : nodeFetch;
  if (values.debug) io.err(`debug: credentials: ${describeCredentials(credentials)}\n`);

  if (credentials.kind === 'oauth' && credentials.oauth.tokenUrl === undefined) {
    checkTokenUrl(credentials.portal, command);
  }
  const auth: Partial<ClientOptions> =
    credentials.kind === 'webhook'
      ? { webhookUrl: credentials.webhookUrl }
      : credentials.kind === 'token'
        ? { portal: credentials.portal, accessToken: credentials.token }
        : {
            portal: credentials.portal,
            oauth: {
              ...credentials.oauth,
              onTokens: (tokens) => saveRenewedTokens(io, credentials, tokens),
            },
          };
  const client = createClient({ ...options, ...auth, fetch: fetchImpl });

  return {
    client,
    credentials,
    async execute(call, quiet, done) {
      const answer = await call(client);
      if (values.test) {
        const request = captured.length === 1 ? captured[0] : captured;
        const dump = { test: true, credentials: describeCredentials(credentials), request };
        emit(io, io.masker.value(dump), { ...values, quiet: false }, command);
        return 0;
      }
      emit(
        io,
        answer,
        values,
        command,
        quiet as ((answer: unknown) => string) | undefined,
        done ? done(answer) : `the call succeeded`,
      );
      return 0;
    },
  };
}
