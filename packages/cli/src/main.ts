/**
 * The b24notify command line: a map of command names to lazy imports, so a run loads only the
 * command it runs (`--version` loads no command, `send` never loads the emulator). Parsing,
 * help and error reports are shared here; each command lives in its own file under `commands/`.
 *
 * Run it programmatically with {@link runCli}, giving it streams and an environment.
 * @packageDocumentation
 */
import { readFileSync } from 'node:fs';
import type { Command, CommandContext, OptionSpecs } from './command.js';
import { EXIT, UsageError, errorAnswer, exitCodeFor, formatError, isApiExit } from './errors.js';
import { formatHelp } from './help.js';
import { createIo, type Io, type IoOptions } from './io.js';
import { checkOut, toJson } from './output.js';
import { closest, parseCommandLine } from './parse.js';

/** A command as the index knows it before loading it. */
export interface CommandEntry {
  /** One line for the command list. */
  summary: string;
  load: () => Promise<{ command: Command }>;
}

/** Every command, by name: loaded only when it runs. */
export const commands: Readonly<Record<string, CommandEntry>> = {
  send: { summary: 'send a personal or system notification', load: () => import('./commands/send.js') },
  delete: {
    summary: 'delete notifications by id, tag or sub-tag',
    load: () => import('./commands/delete.js'),
  },
  read: { summary: 'mark notifications read or unread', load: () => import('./commands/read.js') },
  list: { summary: "list the calling user's notifications", load: () => import('./commands/list.js') },
  call: { summary: 'call any REST method with JSON parameters', load: () => import('./commands/call.js') },
  bitrix24: {
    summary: "OPI's form: b24notify bitrix24 CreatePersonalNotification --url U ...",
    load: () => import('./commands/bitrix24.js'),
  },
  outbox: {
    summary: 'queue notifications in a file and deliver them in batches, resumably',
    load: () => import('./commands/outbox.js'),
  },
  queue: {
    summary: 'run a queue worker, show the queue, or resume a parked portal, on Redis',
    load: () => import('./commands/queue.js'),
  },
  config: {
    summary: 'save, show or locate the credentials file',
    load: () => import('./commands/config.js'),
  },
  emulator: { summary: 'start a local Bitrix24 emulator', load: () => import('./commands/emulator.js') },
  demo: {
    summary: 'send the OPI example notification to an in-process emulator',
    load: () => import('./commands/demo.js'),
  },
  completion: {
    summary: 'print a bash or zsh completion script',
    load: () => import('./commands/completion.js'),
  },
};

/** The package version, read from package.json next to the build. */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** `b24notify --help`. */
export function globalHelp(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  const list = Object.entries(commands)
    .map(([name, entry]) => `  ${name.padEnd(width)}  ${entry.summary}`)
    .join('\n');
  return `b24notify: Bitrix24 notifications from the command line

Usage: b24notify <command> [options]
       b24notify bitrix24 <Method> [options]   (OPI's "oint bitrix24" form)

Commands:
${list}

Options:
  -h, --help       help; also "b24notify <command> --help"
  -v, --version    print the version

Credentials, strongest first: --webhook URL, or --portal DOMAIN with --token TOKEN;
the environment: B24_WEBHOOK_URL, or B24_PORTAL with B24_TOKEN, or B24_PORTAL with
B24_CLIENT_ID, B24_CLIENT_SECRET, B24_ACCESS_TOKEN, B24_REFRESH_TOKEN (OAuth);
the config file ("b24notify config set --webhook URL"). Secrets are masked in all output.

Exit codes: 0 done; 1 unexpected error or unknown command; 2 usage error; 3 error answer
from the portal; 4 credentials refused; 5 rate limited; 6 network failure or timeout;
7 done, but --out could not be written (the answer went to stdout: do not repeat it);
130 stopped by Ctrl+C (outbox deliver).
The bitrix24 form exits as OPI does: 0 (even on an error answer), 1, 2, 99.

Examples:
  b24notify send --webhook "$B24_WEBHOOK_URL" --user 1 --text "Deploy finished"
  b24notify send --user 5 --text "Invoice paid" --tag invoice-1042 --client-id billing --file invoice.pdf=https://example.com/1042.pdf
  b24notify bitrix24 CreatePersonalNotification --url "$B24_WEBHOOK_URL" --user 1 --text "Message text"
  b24notify demo
`;
}

/** Run the command named in `argv` and report any error; the options are parsed against it. */
async function runCommand(name: string, command: Command, argv: string[], io: Io): Promise<number> {
  let values: Record<string, unknown> = {};
  try {
    const ctx: CommandContext<OptionSpecs> = command.rawArgs
      ? { name, values: {}, positionals: argv, tokens: [], io }
      : { name, io, ...parseCommandLine(argv, command.options, name, command.positionals === true) };
    values = ctx.values;
    if (ctx.values.help === true) {
      io.out(formatHelp(command));
      return EXIT.ok;
    }
    if (typeof ctx.values.out === 'string') checkOut(io, ctx.values.out, name);
    return await command.run(ctx);
  } catch (err) {
    const code = exitCodeFor(err);
    io.err(formatError(err, `b24notify ${name}`, io.env));
    const opiExit = values['opi-exit'] === true || io.env.B24NOTIFY_OPI_EXIT === '1';
    const answer = errorAnswer(err);
    if (opiExit && isApiExit(code) && answer) {
      // OPI prints Bitrix24's error answer as the result and exits 0; scripts look at "error".
      io.out(`${toJson(answer, values.pretty === true || (values.json !== true && io.isTTY))}\n`);
      return EXIT.ok;
    }
    return code;
  }
}

/**
 * Run the CLI with `argv` (without `node` and the script) and the given streams and
 * environment. Never throws: resolves to the exit code.
 *
 * @example
 * const code = await runCli(['send', '--user', '1', '--text', 'hi'], {
 *   stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd(),
 * });
 */
export async function runCli(argv: readonly string[], options: IoOptions): Promise<number> {
  const io = createIo(options, argv);
  const [first, ...rest] = argv;
  try {
    if (first === undefined || first === '--help' || first === '-h') {
      io.out(globalHelp());
      return EXIT.ok;
    }
    if (first === '--version' || first === '-v') {
      io.out(`${version()}\n`);
      return EXIT.ok;
    }
    if (first === 'help') {
      const entry = rest[0] === undefined ? undefined : commands[rest[0]];
      if (!entry) {
        io.out(globalHelp());
        return EXIT.ok;
      }
      io.out(formatHelp((await entry.load()).command));
      return EXIT.ok;
    }
    if (first.startsWith('-')) {
      throw new UsageError(
        `unknown option ${first}: options go after the command, e.g. b24notify send --help`,
      );
    }
    const entry = Object.hasOwn(commands, first) ? commands[first] : undefined;
    if (!entry) {
      const guess = closest(first, Object.keys(commands));
      io.err(
        `b24notify: unknown command "${first}"${guess ? ` (did you mean "${guess}"?)` : ''}. ` +
          "See 'b24notify --help'.\n",
      );
      return EXIT.unexpected;
    }
    return await runCommand(first, (await entry.load()).command, rest, io);
  } catch (err) {
    io.err(formatError(err, 'b24notify', io.env));
    return exitCodeFor(err);
  }
}

/** Resolves once everything written to `stream` so far has been handed to the system. */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write('', () => resolve()));
}

/**
 * The binary's entry: runs with the process's own streams, then exits with the code as soon
 * as the output is flushed, rather than waiting for idle keep-alive connections to close.
 */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<never> {
  // The reader went away (`b24notify list | head -1`): stop quietly instead of crashing.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    });
  }
  const code = await runCli(argv, {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    stdin: () => process.stdin,
    onStop(listener) {
      process.once('SIGINT', listener);
      process.once('SIGTERM', listener);
      return () => {
        process.off('SIGINT', listener);
        process.off('SIGTERM', listener);
      };
    },
  });
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
}
