/**
 * Printing results: indented JSON on a terminal, compact JSON when piped (one answer per line,
 * for `jq` and logs), `--json`/`--pretty` to choose, `--quiet` for just the result, `--out` to
 * write the answer to a file.
 */
import { accessSync, constants, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CliError, EXIT, UsageError } from './errors.js';
import type { Io } from './io.js';

/** The output flags' values. */
export interface OutputValues {
  json?: boolean | undefined;
  pretty?: boolean | undefined;
  quiet?: boolean | undefined;
  out?: string | undefined;
}

/** Whether to indent JSON: the flags decide, else whether stdout is a terminal. */
export function wantsPretty(io: Io, values: OutputValues, command: string): boolean {
  if (values.json && values.pretty) throw new UsageError('use either --json or --pretty, not both', command);
  if (values.pretty) return true;
  if (values.json) return false;
  return io.isTTY;
}

/** JSON text, indented or compact. */
export function toJson(value: unknown, pretty: boolean): string {
  return JSON.stringify(value, null, pretty ? 2 : undefined) ?? 'null';
}

/** A result as `--quiet` prints it: scalars bare, anything else as compact JSON. */
export function bare(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : toJson(value, false);
}

/** A system error code in words, for `--out` messages. */
function why(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code ?? 'error';
  const words: Record<string, string> = {
    ENOENT: 'no such directory',
    ENOTDIR: 'a part of the path is a file, not a directory',
    EISDIR: 'it is a directory',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on the device',
  };
  return words[code] ? `${words[code]} (${code})` : code;
}

/**
 * Check, before anything is sent or changed, that the `--out` file can be written: finding out
 * afterwards would report a failure for a call that succeeded, and the natural retry would send
 * the notification twice.
 */
export function checkOut(io: Io, path: string, command: string): void {
  const full = resolve(io.cwd, path);
  const refuse = (reason: string): never => {
    throw new UsageError(`--out ${path}: cannot be written: ${reason}`, command);
  };
  let target: string = full;
  try {
    if (statSync(full).isDirectory()) refuse('it is a directory; give a file name');
  } catch (err) {
    if (err instanceof UsageError) throw err;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') refuse(why(err));
    // A new file: its directory must exist and take new files.
    target = dirname(full);
    try {
      if (!statSync(target).isDirectory()) refuse(`${dirname(path)} is not a directory`);
    } catch (dirErr) {
      if (dirErr instanceof UsageError) throw dirErr;
      refuse(why(dirErr));
    }
  }
  try {
    accessSync(target, constants.W_OK);
  } catch (err) {
    refuse(why(err));
  }
}

/**
 * Write `text` to the `--out` file. It was checked before the call ({@link checkOut}), so a
 * failure here comes after the call succeeded (a full disk, a file removed meanwhile): the
 * report says so plainly, with what was done, and the answer goes to stdout instead, so the
 * caller neither loses it nor repeats the call.
 */
export function writeOut(io: Io, path: string, text: string, done = 'the command succeeded'): void {
  const full = resolve(io.cwd, path);
  try {
    writeFileSync(full, io.masker.text(text));
  } catch (err) {
    io.out(text);
    throw new CliError(
      `${done}, but --out ${path} could not be written: ${why(err)}`,
      EXIT.outLost,
      'Do not run it again: it was done. The answer is printed on stdout instead.',
    );
  }
}

/**
 * Print a command's answer. With `--out` the whole answer goes to the file (indented) and
 * stdout gets only what `--quiet` asks for; with `--quiet` stdout gets `quiet(answer)`, printed
 * first so that a failing `--out` cannot hide it.
 */
export function emit(
  io: Io,
  answer: unknown,
  values: OutputValues,
  command: string,
  quiet: (answer: unknown) => string = (a) => bare((a as { result?: unknown }).result ?? a),
  /** What was done, for the report if `--out` fails after it: `notification 5 WAS delivered`. */
  done?: string,
): void {
  const pretty = wantsPretty(io, values, command);
  if (values.quiet) io.out(`${quiet(answer)}\n`);
  if (values.out) writeOut(io, values.out, `${toJson(answer, true)}\n`, done);
  else if (!values.quiet) io.out(`${toJson(answer, pretty)}\n`);
}
