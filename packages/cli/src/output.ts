/**
 * Printing results: indented JSON on a terminal, compact JSON when piped (one answer per line,
 * for `jq` and logs), `--json`/`--pretty` to choose, `--quiet` for just the result, `--out` to
 * write the answer to a file.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
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

/** Write `text` to the `--out` file; failing to is reported, not thrown as a crash. */
export function writeOut(io: Io, path: string, text: string): void {
  const full = resolve(io.cwd, path);
  try {
    writeFileSync(full, io.masker.text(text));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new CliError(
      `cannot write --out ${path}: ${code === 'ENOENT' ? 'no such directory' : code}`,
      EXIT.unexpected,
      'Check that the directory exists and is writable.',
    );
  }
}

/**
 * Print a command's answer. With `--out` the whole answer goes to the file (indented) and
 * stdout gets only what `--quiet` asks for; with `--quiet` stdout gets `quiet(answer)`.
 */
export function emit(
  io: Io,
  answer: unknown,
  values: OutputValues,
  command: string,
  quiet: (answer: unknown) => string = (a) => bare((a as { result?: unknown }).result ?? a),
): void {
  const pretty = wantsPretty(io, values, command);
  if (values.out) writeOut(io, values.out, `${toJson(answer, true)}\n`);
  if (values.quiet) io.out(`${quiet(answer)}\n`);
  else if (!values.out) io.out(`${toJson(answer, pretty)}\n`);
}
