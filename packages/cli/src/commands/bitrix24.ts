/**
 * OPI's command form, `b24notify bitrix24 <Method> [options]`, for scripts written for OPI's
 * `oint bitrix24 …`: OPI's method names (English and Russian), options and short forms, inline
 * JSON or a JSON file for `--blocks`, `--debug`, `--test`, `--out`, pretty JSON, and OPI's exit
 * codes (0 even on an error answer, 1 unknown command, 2 unknown method, 99 unexpected). Calls
 * go through `b24notify/opi`, which hands Bitrix24's errors back as data.
 *
 * Option names follow OPI's documentation: `--notif` for DeleteNotification's NotificationID
 * (`--id` is accepted too) and `--title`/`--url` for GetPictureBlock and GetFileBlock.
 */
import { createOpi, type Opi, type OpiBlock } from 'b24notify/opi';
import { defineCommand, type OptionSpecs } from '../command.js';
import { debugFetch, testFetch, type Captured } from '../connect.js';
import { resolveCredentials } from '../credentials.js';
import { nodeFetch } from 'b24notify';
import { CliError, OPI_EXIT, UsageError, formatError } from '../errors.js';
import { formatOptions } from '../help.js';
import type { Io } from '../io.js';
import { checkOut, toJson, writeOut } from '../output.js';
import { closest, jsonArg, parseCommandLine, positiveInt } from '../parse.js';

const NAME = 'bitrix24';

const url = {
  type: 'string',
  short: 'u',
  valueName: 'URL',
  description: 'webhook URL, or the portal domain with --token (else $B24_WEBHOOK_URL or config)',
} as const;
const token = {
  type: 'string',
  short: 'k',
  valueName: 'TOKEN',
  description: 'access token, when --url is a domain',
} as const;

/** OPI's options common to the two send methods. */
const sendOptions = {
  url,
  user: { type: 'string', short: 's', valueName: 'ID', description: 'user id of the recipient (required)' },
  text: { type: 'string', short: 't', valueName: 'TEXT', description: 'notification text (required)' },
  tag: { type: 'string', short: 'g', valueName: 'TAG', description: 'uniqueness tag' },
  blocks: {
    type: 'string',
    short: 'b',
    valueName: 'JSON|FILE',
    description: 'attachment blocks: inline JSON or a JSON file path',
  },
  token,
} as const satisfies OptionSpecs;

/** OPI's global options. */
const globalOptions = {
  debug: { type: 'boolean', group: 'Global', description: 'print the parameters (secrets masked) on stderr' },
  test: { type: 'boolean', group: 'Global', description: 'print what would run, run nothing' },
  out: { type: 'string', valueName: 'FILE', group: 'Global', description: 'write the result to FILE' },
  help: { type: 'boolean', short: 'h', group: 'Global', description: 'show this help' },
} as const satisfies OptionSpecs;

type Args = Record<string, string | boolean | undefined>;

/** Where an OPI call goes: OPI's URL and Token parameters. */
interface Target {
  URL: string;
  Token: string;
}

/** One OPI method: its names, options, and how to call it. */
interface OpiMethod {
  name: string;
  russian: string;
  summary: string;
  /** The Bitrix24 method it calls, for help; none for the block builders. */
  restMethod?: string;
  options: OptionSpecs;
  /** OPI's positional parameters from the options. */
  parameters(args: Args, io: Io, target: () => Target): Record<string, unknown>;
  invoke(opi: Opi, p: Record<string, unknown>): Promise<unknown> | unknown;
}

function required(args: Args, name: string): string {
  const value = args[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`, NAME);
  return value;
}

function optional(args: Args, name: string): string {
  const value = args[name];
  return typeof value === 'string' ? value : '';
}

/**
 * OPI's URL and Token: as given, or, when `--url` is left out, from the same places the other
 * commands read (B24_WEBHOOK_URL, B24_PORTAL + B24_TOKEN, the config file), so a secret need not
 * be on the command line. OAuth credentials give their access token, which is not renewed here.
 */
function targetOf(args: Args, io: Io): Target {
  const given = optional(args, 'url');
  const tokenArg = optional(args, 'token');
  if (given !== '') return { URL: given, Token: tokenArg };
  const credentials = resolveCredentials(io, tokenArg ? { token: tokenArg } : {}, 'opi');
  if (credentials.kind === 'webhook') return { URL: credentials.webhookUrl, Token: '' };
  if (credentials.kind === 'token') return { URL: credentials.portal, Token: credentials.token };
  return { URL: credentials.portal, Token: credentials.oauth.accessToken };
}

function notification(name: string, russian: string, restMethod: string, summary: string): OpiMethod {
  return {
    name,
    russian,
    summary,
    restMethod,
    options: sendOptions,
    parameters(args, io, target) {
      const UserID = positiveInt('--user', required(args, 'user'), NAME);
      const Text = required(args, 'text');
      const blocks = optional(args, 'blocks');
      return {
        ...target(),
        UserID,
        Text,
        Tag: optional(args, 'tag'),
        Attachments: blocks === '' ? '' : jsonArg('--blocks', blocks, io.cwd, NAME),
      };
    },
    invoke: (opi, p) =>
      (opi[name as 'CreatePersonalNotification'] as Opi['CreatePersonalNotification'])(
        p.URL as string,
        p.UserID as number,
        p.Text as string,
        p.Tag as string,
        p.Attachments as OpiBlock[] | string,
        p.Token as string,
      ),
  };
}

function blockBuilder(name: 'GetPictureBlock' | 'GetFileBlock', russian: string, summary: string): OpiMethod {
  return {
    name,
    russian,
    summary,
    options: {
      title: { type: 'string', valueName: 'NAME', description: 'the name shown (required)' },
      url: { type: 'string', short: 'u', valueName: 'URL', description: 'the link (required)' },
    },
    parameters: (args) => ({ Name: required(args, 'title'), URL: required(args, 'url') }),
    invoke: (opi, p) => opi[name](p.Name as string, p.URL as string),
  };
}

/** OPI's notification methods. */
const METHODS: readonly OpiMethod[] = [
  notification(
    'CreatePersonalNotification',
    'СоздатьПерсональноеУведомление',
    'im.notify.personal.add',
    'creates a personal notification to the user',
  ),
  notification(
    'CreateSystemNotification',
    'СоздатьСистемноеУведомление',
    'im.notify.system.add',
    'creates a system notification to the user',
  ),
  {
    name: 'DeleteNotification',
    russian: 'УдалитьУведомление',
    summary: 'deletes a notification by id',
    restMethod: 'im.notify.delete',
    options: {
      url,
      notif: { type: 'string', valueName: 'ID', description: "notification id (required; OPI's name)" },
      id: { type: 'string', valueName: 'ID', description: 'the same as --notif' },
      token,
    },
    parameters(args, _io, target) {
      if (args.notif !== undefined && args.id !== undefined) {
        throw new UsageError('pass the notification id once, with --notif (or --id)', NAME);
      }
      const id = optional(args, 'notif') || optional(args, 'id');
      if (id === '') throw new UsageError('--notif is required (the notification id)', NAME);
      return {
        ...target(),
        NotificationID: positiveInt(args.notif !== undefined ? '--notif' : '--id', id, NAME),
      };
    },
    invoke: (opi, p) =>
      opi.DeleteNotification(p.URL as string, p.NotificationID as number, p.Token as string),
  },
  blockBuilder('GetPictureBlock', 'ПолучитьБлокКартинки', 'makes a picture block for --blocks'),
  blockBuilder('GetFileBlock', 'ПолучитьБлокФайла', 'makes a file block for --blocks'),
];

/** Find a method by its English or Russian name, in any letter case, as OPI does. */
function findMethod(name: string): OpiMethod | undefined {
  const key = name.toLowerCase();
  return METHODS.find((m) => m.name.toLowerCase() === key || m.russian.toLowerCase() === key);
}

function methodsHelp(): string {
  const width = Math.max(...METHODS.map((m) => m.name.length));
  return `b24notify bitrix24: OPI's command form ("oint bitrix24" with oint replaced by b24notify)

Usage: b24notify bitrix24 <Method> [options] [--debug] [--test] [--out FILE]

Methods (the Russian names work too):
${METHODS.map((m) => `  ${m.name.padEnd(width)}  ${m.summary}\n  ${' '.repeat(width)}  (${m.russian})`).join('\n')}

Prints Bitrix24's answer as indented JSON, errors included. Exit codes, as OPI's: 0 done (even
when Bitrix24 answered an error), 1 unknown command, 2 unknown method or bad options, 99
unexpected error.

Examples:
  b24notify bitrix24 CreatePersonalNotification --url "$B24_WEBHOOK_URL" --user 1 --text "Message text" --blocks blocks.json
  b24notify bitrix24 CreatePersonalNotification --url "b24-ar17wx.bitrix24.by" --user "10" --text "Message text" --tag "New" --token "$TOKEN"
  b24notify bitrix24 GetPictureBlock --title "Image1" --url "https://example.com/picture.jpg"
  b24notify bitrix24 DeleteNotification --url "$B24_WEBHOOK_URL" --notif 42
  b24notify bitrix24 CreatePersonalNotification --help
`;
}

function methodHelp(method: OpiMethod): string {
  const calls = method.restMethod ? `Calls ${method.restMethod}. ` : '';
  return `b24notify bitrix24 ${method.name} (${method.russian}): ${method.summary}

Usage: b24notify bitrix24 ${method.name} ${Object.entries(method.options)
    .map(([name, spec]) => `--${name} ${spec.valueName ?? ''}`.trim())
    .join(' ')}

${calls}Short forms as OPI's: ${
    Object.entries(method.options)
      .filter(([, spec]) => spec.short)
      .map(([name, spec]) => `-${spec.short} for --${name}`)
      .join(', ') || 'none'
  }.

${formatOptions({ ...method.options, ...globalOptions })}
`;
}

/** What an OPI call did, for the report when `--out` fails after it. */
function doneText(result: unknown): string {
  const id = (result as { result?: unknown } | null)?.result;
  if (typeof id === 'number') return `notification ${id} WAS delivered`;
  return 'the call was made';
}

/** Run one OPI method; resolves to OPI's exit code. */
async function runMethod(method: OpiMethod, argv: string[], io: Io): Promise<number> {
  const { values } = parseCommandLine(argv, { ...method.options, ...globalOptions }, NAME);
  const args = values as Args;
  if (args.help === true) {
    io.out(methodHelp(method));
    return OPI_EXIT.ok;
  }
  if (typeof args.out === 'string') checkOut(io, args.out, NAME);
  const parameters = method.parameters(args, io, () => targetOf(args, io));
  if (typeof parameters.Token === 'string') io.masker.add(parameters.Token);
  if (args.debug) {
    io.err(`debug: bitrix24 ${method.name} ${JSON.stringify(io.masker.value(parameters))}\n`);
  }
  const captured: Captured[] = [];
  const fetchImpl = args.test ? testFetch(captured) : args.debug ? debugFetch(io, nodeFetch) : nodeFetch;
  const opi = createOpi({ fetch: fetchImpl });

  let result: unknown;
  if (args.test) {
    const local = method.restMethod === undefined;
    const answer = local ? undefined : await method.invoke(opi, parameters);
    result = io.masker.value({
      test: true,
      library: NAME,
      method: method.name,
      parameters,
      ...(local ? {} : captured.length > 0 ? { request: captured[0] } : { answer }),
    });
  } else {
    result = await method.invoke(opi, parameters);
  }
  const text = `${toJson(result, true)}\n`;
  if (typeof args.out === 'string') writeOut(io, args.out, text, doneText(result));
  else io.out(text);
  return OPI_EXIT.ok;
}

export const command = defineCommand({
  meta: {
    name: NAME,
    summary: "OPI's command form: b24notify bitrix24 CreatePersonalNotification --url U --user ID --text T",
    usage: 'bitrix24 <Method> [options]',
    examples: [],
  },
  options: {},
  rawArgs: true,
  completion: {
    words: METHODS.flatMap((m) => [m.name, m.russian]),
    options: Object.assign({}, ...METHODS.map((m) => m.options), globalOptions) as OptionSpecs,
  },
  async run({ positionals: argv, io }) {
    const [name, ...rest] = argv;
    if (name === undefined || name === '--help' || name === '-h') {
      io.out(methodsHelp());
      return OPI_EXIT.ok;
    }
    const method = findMethod(name);
    if (!method) {
      const guess = closest(
        name,
        METHODS.map((m) => m.name),
      );
      io.err(
        `b24notify bitrix24: unknown method "${name}"${guess ? ` (did you mean ${guess}?)` : ''}. ` +
          "See 'b24notify bitrix24 --help'.\n",
      );
      return OPI_EXIT.unknownMethod;
    }
    try {
      return await runMethod(method, rest, io);
    } catch (err) {
      io.err(formatError(err, `b24notify bitrix24 ${method.name}`, io.env));
      if (err instanceof CliError) return err.exitCode;
      return err instanceof UsageError ? OPI_EXIT.unknownMethod : OPI_EXIT.unexpected;
    }
  },
});
