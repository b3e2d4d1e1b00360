/**
 * The shape of a command: metadata for help and completion, its options (the `node:util`
 * `parseArgs` format plus a description), and `run`. One command, one file, under
 * `src/commands/`; `main.ts` loads only the one that runs.
 */
import type { Io } from './io.js';

/** One command-line option, as `parseArgs` takes it, plus what help prints. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** One line for help. */
  description: string;
  /** Placeholder for the value in help, e.g. `ID` in `--user ID`. */
  valueName?: string;
  /** Heading the option is listed under in help; `Options` when absent. */
  group?: string;
}

/** A command's options by long name. */
export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** `boolean` for boolean options, `string` for string ones (distributes over a union). */
type Scalar<T extends OptionSpec['type']> = T extends 'boolean' ? boolean : string;

type ValueOf<S extends OptionSpec> = S['multiple'] extends true ? Scalar<S['type']>[] : Scalar<S['type']>;

/** Parsed option values, typed from the specs; absent options are undefined. */
export type Values<O extends OptionSpecs> = { [K in keyof O]?: ValueOf<O[K]> };

/** One option as it appeared on the command line, in order (for repeatable block flags). */
export interface OptionToken {
  name: string;
  value: string | undefined;
}

/** Everything a command's `run` gets. */
export interface CommandContext<O extends OptionSpecs> {
  /** The command's name as typed, e.g. `send`. */
  name: string;
  values: Values<O>;
  positionals: string[];
  /** The options in command-line order. */
  tokens: OptionToken[];
  io: Io;
}

/** Help text and completion data for a command. */
export interface CommandMeta {
  name: string;
  /** One line: what the command does. */
  summary: string;
  /** The usage line after `b24notify `, e.g. `send --user ID --text TEXT [options]`. */
  usage: string;
  /** Paragraphs printed after the usage line. */
  description?: string;
  /** Command lines that work as written (`b24notify` included). */
  examples: string[];
}

/** A command. */
export interface Command<O extends OptionSpecs = OptionSpecs> {
  meta: CommandMeta;
  options: O;
  /** Whether free arguments are allowed (`call METHOD`, `completion bash`). */
  positionals?: boolean;
  /**
   * Parse the command line itself (the OPI form, whose options depend on the method named
   * first). Such a command gets `argv` in `positionals` and empty `values`.
   */
  rawArgs?: boolean;
  /**
   * For shell completion: words for the first argument (subcommands, OPI method names) and,
   * for commands that parse their own arguments, the options to offer.
   */
  completion?: { words?: readonly string[]; options?: OptionSpecs };
  /** Run; resolves to the exit code. Errors thrown are reported by `main`. */
  run(ctx: CommandContext<O>): Promise<number>;
}

/**
 * Define a command. `const` keeps the option specs literal, so `values` is typed from them.
 *
 * @example
 * export const command = defineCommand({
 *   meta: { name: 'hello', summary: 'Say hello', usage: 'hello [--name N]', examples: [] },
 *   options: { name: { type: 'string', description: 'who to greet' } },
 *   async run({ values, io }) { io.out(`hello ${values.name ?? 'world'}\n`); return 0; },
 * });
 */
export function defineCommand<const O extends OptionSpecs>(command: Command<O>): Command<O> {
  return command;
}
