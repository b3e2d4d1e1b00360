/**
 * From command-line strings to typed values: `node:util` `parseArgs` for the flags, and one
 * function per kind of value (ids, JSON, `NAME=URL`). Every problem becomes a
 * {@link UsageError} naming the flag, what was expected and what was given.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { OptionSpecs, OptionToken, Values } from './command.js';
import { UsageError } from './errors.js';

/** The parsed command line. */
export interface Parsed<O extends OptionSpecs> {
  values: Values<O>;
  positionals: string[];
  tokens: OptionToken[];
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const next = row[j] as number;
      row[j] = Math.min(next + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = next;
    }
  }
  return row[b.length] as number;
}

/** The closest of `names` to `typed`, if close enough to be a typo. */
export function closest(typed: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of names) {
    const d = distance(typed.toLowerCase(), name.toLowerCase());
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(typed.length / 3)) ? best : undefined;
}

/** Value names of options that take a whole number, where a leading "-" can only be a minus sign. */
const NUMERIC_VALUES = new Set(['ID', 'N', 'MS']);

/** `parseArgs`'s messages are long and mention its own API; say what went wrong in our words. */
function usageFrom(err: unknown, argv: readonly string[], specs: OptionSpecs, command: string): UsageError {
  const code = (err as { code?: string }).code;
  const message = err instanceof Error ? err.message : String(err);
  const option = /'(-{1,2}[^' ]+)/.exec(message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) {
    const guess = option.startsWith('--') ? closest(option.slice(2), Object.keys(specs)) : undefined;
    return new UsageError(`unknown option ${option}${guess ? ` (did you mean --${guess}?)` : ''}`, command);
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option) {
    if (/argument missing/.test(message)) return new UsageError(`${option} needs a value`, command);
    if (/ambiguous/.test(message)) {
      // `--user -1`: parseArgs cannot tell a negative number from an option; a numeric option
      // has no use for one, so say what is wrong with the value instead.
      const value = argv[argv.indexOf(option) + 1];
      const bare = option.replace(/^-+/, '');
      const spec = option.startsWith('--')
        ? specs[bare]
        : Object.values(specs).find((candidate) => candidate.short === bare);
      if (value !== undefined && /^-\d/.test(value) && NUMERIC_VALUES.has(spec?.valueName ?? '')) {
        return new UsageError(`${option}: expected a positive integer, got "${value}"`, command);
      }
      return new UsageError(
        `${option} needs a value; to pass one starting with "-", write ${option}=VALUE`,
        command,
      );
    }
    return new UsageError(`${option} takes no value`, command);
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    const arg = /'([^']*)'/.exec(message)?.[1] ?? argv.find((a) => !a.startsWith('-')) ?? '';
    return new UsageError(`unexpected argument "${arg}"`, command);
  }
  return new UsageError(message, command);
}

/** Parse `argv` against a command's options, strictly: unknown flags are errors. */
export function parseCommandLine<O extends OptionSpecs>(
  argv: readonly string[],
  specs: O,
  command: string,
  allowPositionals = false,
): Parsed<O> {
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const [name, spec] of Object.entries(specs)) {
    options[name] = {
      type: spec.type,
      ...(spec.short ? { short: spec.short } : {}),
      ...(spec.multiple ? { multiple: true } : {}),
    };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals, tokens: true });
  } catch (err) {
    throw usageFrom(err, argv, specs, command);
  }
  const tokens: OptionToken[] = [];
  for (const token of parsed.tokens) {
    if (token.kind === 'option') tokens.push({ name: token.name, value: token.value });
  }
  // Typed by the specs the parser was given; parseArgs's own typing cannot follow a generic.
  return { values: parsed.values as Values<O>, positionals: parsed.positionals, tokens };
}

/** A positive integer id (`--user 10`), or a usage error naming the flag. */
export function positiveInt(flag: string, value: string, command: string): number {
  const trimmed = value.trim();
  const n = Number(trimmed);
  if (!/^\d+$/.test(trimmed) || !Number.isSafeInteger(n) || n <= 0) {
    throw new UsageError(`${flag}: expected a positive integer, got "${value}"`, command);
  }
  return n;
}

/** An integer in a range (`--limit 1..50`). */
export function intInRange(flag: string, value: string, min: number, max: number, command: string): number {
  const trimmed = value.trim();
  const n = Number(trimmed);
  if (!/^\d+$/.test(trimmed) || n < min || n > max) {
    throw new UsageError(`${flag}: expected a whole number from ${min} to ${max}, got "${value}"`, command);
  }
  return n;
}

/** A comma-separated list of positive ids (`--ids 1,2,3`). */
export function idList(flag: string, value: string, command: string): number[] {
  const parts = value.split(',').map((p) => p.trim());
  if (parts.length === 0 || parts.some((p) => p === '')) {
    throw new UsageError(`${flag}: expected ids separated by commas, like 1,2,3, got "${value}"`, command);
  }
  return parts.map((p) => positiveInt(flag, p, command));
}

/** Read and parse a JSON file, naming the flag and the file in every error. */
function readJsonFile(flag: string, path: string, cwd: string, command: string): unknown {
  const full = resolve(cwd, path);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (code ?? 'unreadable');
    throw new UsageError(`${flag}: cannot read "${path}": ${why}`, command);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UsageError(`${flag}: "${path}" is not valid JSON (${(err as Error).message})`, command);
  }
}

/**
 * A JSON value given inline or as a file: `@path` is always a file; text starting with `[`,
 * `{` or `"` is inline JSON; anything else is read as a file path if such a file exists (OPI's
 * rule for array and object options), else it is reported as neither.
 */
export function jsonArg(flag: string, value: string, cwd: string, command: string): unknown {
  if (value.startsWith('@')) {
    if (value.slice(1).trim() === '') {
      throw new UsageError(
        `${flag}: "@" must be followed by a file name, like ${flag} @attach.json`,
        command,
      );
    }
    return readJsonFile(flag, value.slice(1), cwd, command);
  }
  const trimmed = value.trim();
  if (/^[[{"]/.test(trimmed)) {
    try {
      return JSON.parse(trimmed) as unknown;
    } catch (err) {
      throw new UsageError(`${flag}: not valid JSON (${(err as Error).message})`, command);
    }
  }
  if (trimmed !== '' && existsSync(resolve(cwd, trimmed))) return readJsonFile(flag, trimmed, cwd, command);
  throw new UsageError(
    `${flag}: expected inline JSON or a JSON file, got "${value}" (not JSON, and no such file)`,
    command,
  );
}

/**
 * `NAME=URL` for the block shorthands; a value that is just a URL (or a portal path) has no
 * name. The name ends at the first `=`, so URLs may contain `=` after it.
 */
export function nameAndUrl(flag: string, value: string, command: string): { name?: string; url: string } {
  if (/^(https?:\/\/|\/)/i.test(value)) return { url: value };
  const eq = value.indexOf('=');
  if (eq <= 0 || eq === value.length - 1) {
    throw new UsageError(`${flag}: expected NAME=URL or a URL, got "${value}"`, command);
  }
  return { name: value.slice(0, eq), url: value.slice(eq + 1) };
}
