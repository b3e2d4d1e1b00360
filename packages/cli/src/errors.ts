/**
 * Exit codes and error reports. Library errors are recognised by their `name` rather than by
 * `instanceof`, so `main` can report them without loading the library (it stays out of
 * `--version` and `--help`), and copies of the library from elsewhere are recognised too.
 */

/** Exit codes of the idiomatic commands; a script can tell every outcome apart. */
export const EXIT = {
  /** Done. */
  ok: 0,
  /** An unexpected error or an unknown command. */
  unexpected: 1,
  /**
   * Bad or unknown flags, bad JSON, a missing file, a non-numeric id, no credentials, an `--out`
   * file that cannot be written (checked before anything is sent).
   */
  usage: 2,
  /** The portal answered an error (`B24ApiError`). */
  api: 3,
  /** The portal refused the credentials (`B24AuthError`). */
  auth: 4,
  /** The portal's limits refused the call, after retries (`B24RateLimitError`). */
  rateLimit: 5,
  /** The network failed or no answer came in time; the report says whether delivery is unknown. */
  network: 6,
  /**
   * The call succeeded (a notification was delivered) but the `--out` file could not be written
   * afterwards; the answer went to stdout. Running it again would repeat the call.
   */
  outLost: 7,
} as const;

/** Exit codes of OPI's CLI, used by the `bitrix24` command form. */
export const OPI_EXIT = {
  /** Done, even when Bitrix24 answered an error (it is printed as data). */
  ok: 0,
  unknownCommand: 1,
  /** Unknown method; this CLI also uses it for bad options in the OPI form. */
  unknownMethod: 2,
  unexpected: 99,
} as const;

/** Bad command-line input. Reported on one line, with where to find help. */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(
    message: string,
    /** The command whose `--help` to point to. */
    readonly command?: string,
  ) {
    super(message);
  }
}

/** An expected failure outside the portal (a file that cannot be written, a missing package). */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT.unexpected,
    /** What to do about it. */
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** The fields of b24notify's errors this module reads. */
interface B24ErrorLike {
  name: string;
  message: string;
  code?: string;
  description?: string;
  status?: number;
  hint?: string;
  delivery?: string;
  method?: string;
  host?: string;
  retryAt?: number;
  timeout?: number;
}

function isB24(err: unknown): err is B24ErrorLike {
  return err instanceof Error && err.name.startsWith('B24');
}

/** The exit code for an error thrown by a command. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError) return EXIT.usage;
  if (err instanceof CliError) return err.exitCode;
  if (!isB24(err)) return EXIT.unexpected;
  switch (err.name) {
    case 'B24ValidationError':
      return EXIT.usage;
    case 'B24AuthError':
      return EXIT.auth;
    case 'B24RateLimitError':
      return EXIT.rateLimit;
    case 'B24NetworkError':
    case 'B24TimeoutError':
      return EXIT.network;
    default:
      return 'code' in err && err.status !== undefined ? EXIT.api : EXIT.unexpected;
  }
}

/** Whether an exit code stands for an error answer of the portal (the ones `--opi-exit` turns into 0). */
export function isApiExit(code: number): boolean {
  return code === EXIT.api || code === EXIT.auth || code === EXIT.rateLimit;
}

/** Bitrix24's error answer for an API error, as OPI prints it: `{error, error_description}`. */
export function errorAnswer(err: unknown): { error: string; error_description: string } | undefined {
  if (!isB24(err) || err.code === undefined || err.status === undefined) return undefined;
  return { error: err.code, error_description: err.description ?? '' };
}

function deliveryLine(delivery: string | undefined, network: boolean): string | undefined {
  if (delivery === 'unknown') {
    return (
      'UNKNOWN: the portal may have created the notification. Re-sending an untagged ' +
      'notification may show it twice; send with --tag to make re-sending safe.'
    );
  }
  if (delivery !== 'not-delivered') return undefined;
  return network
    ? 'not delivered: the request never reached the portal, so sending again cannot duplicate it'
    : 'not delivered: the portal created nothing';
}

function block(head: string, lines: [string, string | undefined][]): string {
  const body = lines
    .filter((line): line is [string, string] => line[1] !== undefined && line[1] !== '')
    .map(([label, text]) => `  ${`${label}:`.padEnd(10)}${text}`);
  return [head, ...body].join('\n') + '\n';
}

/** Where a call went, for a report's first line: ` (im.notify.personal.add on portal)`. */
function site(err: B24ErrorLike): string {
  if (err.method && err.host) return ` in ${err.method} on ${err.host}`;
  if (err.method) return ` in ${err.method}`;
  return err.host ? ` on ${err.host}` : '';
}

/**
 * The report of an error for stderr: one line for bad input; otherwise one block with the
 * code, what it means, what to do, and whether the call may have been delivered. Never a stack
 * trace, unless `B24NOTIFY_STACK=1`.
 */
export function formatError(err: unknown, prefix: string, env: Readonly<Record<string, string | undefined>>) {
  const stack = env.B24NOTIFY_STACK === '1' && err instanceof Error && err.stack ? `${err.stack}\n` : '';
  if (err instanceof UsageError) {
    const help = err.command ? ` See 'b24notify ${err.command} --help'.` : " See 'b24notify --help'.";
    return `${prefix}: ${err.message}.${help}\n${stack}`;
  }
  if (err instanceof CliError) {
    return block(`${prefix}: ${err.message}`, [['to do', err.hint]]) + stack;
  }
  if (isB24(err)) {
    if (err.name === 'B24ValidationError') {
      return `${prefix}: ${err.message}. Nothing was sent.\n${stack}`;
    }
    if (err.name === 'B24NetworkError' || err.name === 'B24TimeoutError') {
      const timeout = err.name === 'B24TimeoutError';
      const code = timeout ? 'TIMEOUT' : (err.code ?? 'NETWORK_ERROR');
      return (
        block(`${prefix}: ${code}${site(err)}`, [
          ['meaning', timeout ? `no answer within ${err.timeout ?? '?'} ms` : err.message],
          [
            'to do',
            timeout
              ? 'Check whether it arrived before sending again, or raise --timeout.'
              : (err.hint ?? 'Check the portal address, your network and any proxy, then try again.'),
          ],
          ['delivery', deliveryLine(err.delivery, true)],
        ]) + stack
      );
    }
    const status = err.status === undefined ? '' : ` (HTTP ${err.status})`;
    return (
      block(`${prefix}: ${err.code ?? err.name}${status}${site(err)}`, [
        ['meaning', err.description || err.message],
        ['to do', err.hint],
        [
          'retry at',
          err.retryAt === undefined ? undefined : new Date(err.retryAt).toISOString().replace('.000', ''),
        ],
        ['delivery', deliveryLine(err.delivery, false)],
      ]) + stack
    );
  }
  const message = err instanceof Error ? err.message : String(err);
  return (
    block(`${prefix}: unexpected error: ${message}`, [
      [
        'to do',
        stack
          ? undefined
          : 'Run again with B24NOTIFY_STACK=1 for the stack trace, and report it if it repeats.',
      ],
    ]) + stack
  );
}
