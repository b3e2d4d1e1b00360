/**
 * The process around a command, as a value: streams, environment, working directory. Commands
 * use only this, never `process` directly, so they run the same from the binary, from a test or
 * from another program. All output passes through the masker.
 */
import { Masker, webhookCode } from './mask.js';

/** A stream the CLI writes to. */
export interface OutStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** What a caller provides to run the CLI (the binary passes the process's own). */
export interface IoOptions {
  stdout: OutStream;
  stderr: OutStream;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** Standard input, read for `--text -`; a function so nothing opens stdin unless asked. */
  stdin?: () => AsyncIterable<string | Uint8Array>;
  /**
   * Subscribe to a stop request (Ctrl+C, SIGTERM) for long-running commands; returns an
   * unsubscribe function. Absent means never asked to stop.
   */
  onStop?: (listener: () => void) => () => void;
}

/** The streams and environment a command runs with. */
export interface Io {
  /** Write to stdout, secrets masked. */
  out(text: string): void;
  /** Write to stderr, secrets masked. */
  err(text: string): void;
  /**
   * Write to stdout unmasked. Only for the local emulator's own freshly generated credentials,
   * which are printed so they can be pasted: they open nothing but that emulator.
   */
  outUnmasked(text: string): void;
  /** Whether stdout is a terminal (pretty output by default). */
  readonly isTTY: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** Secrets known so far; commands register the credentials they load. */
  readonly masker: Masker;
  /** All of stdin as text. */
  readStdin(): Promise<string>;
  /** See {@link IoOptions.onStop}. */
  onStop(listener: () => void): () => void;
}

/** Environment variables whose values are secrets, masked from the start. */
export const SECRET_ENV = [
  'B24_WEBHOOK_URL',
  'B24_TOKEN',
  'B24_CLIENT_SECRET',
  'B24_ACCESS_TOKEN',
  'B24_REFRESH_TOKEN',
  'B24NOTIFY_QUEUE_KEY',
] as const;

/**
 * Options whose values are secrets, masked from the start. OPI's `--url` is a webhook URL or a
 * bare portal domain: only a webhook's code is secret, the domain must stay readable.
 */
const SECRET_FLAGS: ReadonlyMap<string, 'secret' | 'url'> = new Map([
  ['--webhook', 'secret'],
  ['--token', 'secret'],
  ['-k', 'secret'],
  ['--client-secret', 'secret'],
  ['--access-token', 'secret'],
  ['--refresh-token', 'secret'],
  ['--url', 'url'],
  ['-u', 'url'],
]);

/**
 * Secrets on the command line, found before any parsing: even a usage error about another
 * option must not echo them.
 */
function argvSecrets(argv: readonly string[]): string[] {
  const found: string[] = [];
  const take = (kind: 'secret' | 'url' | undefined, value: string | undefined): void => {
    if (kind === undefined || value === undefined) return;
    const secret = kind === 'url' ? webhookCode(value) : value;
    if (secret) found.push(secret);
  };
  argv.forEach((arg, i) => {
    const eq = arg.indexOf('=');
    // A short option with its value attached: -kTOKEN.
    if (/^-[ku][^-]/.test(arg)) take(SECRET_FLAGS.get(arg.slice(0, 2)), arg.slice(2));
    else if (eq > 0 && arg.startsWith('--')) take(SECRET_FLAGS.get(arg.slice(0, eq)), arg.slice(eq + 1));
    else take(SECRET_FLAGS.get(arg), argv[i + 1]);
  });
  return found;
}

/** Build the {@link Io} for one run, with the secrets of `argv` and the environment registered. */
export function createIo(options: IoOptions, argv: readonly string[]): Io {
  const masker = new Masker();
  masker.add(...SECRET_ENV.map((name) => options.env[name]), ...argvSecrets(argv));
  return {
    out: (text) => void options.stdout.write(masker.text(text)),
    err: (text) => void options.stderr.write(masker.text(text)),
    outUnmasked: (text) => void options.stdout.write(text),
    isTTY: options.stdout.isTTY === true,
    env: options.env,
    cwd: options.cwd,
    masker,
    async readStdin() {
      if (!options.stdin) return '';
      const decoder = new TextDecoder();
      let text = '';
      for await (const chunk of options.stdin()) {
        text += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
      }
      return text + decoder.decode();
    },
    onStop: (listener) => options.onStop?.(listener) ?? (() => undefined),
  };
}
