/**
 * The emulator package, imported only by the commands that start it: it is an optional
 * dependency, and loading it (SQLite bindings, the TLS code) would slow every other command.
 */
import type * as Emulator from '@b24notify/emulator';
import { CliError, EXIT } from './errors.js';

/** The emulator module's type, without loading it. */
export type EmulatorModule = typeof Emulator;

/**
 * Held in a variable so the bundler leaves the import to run time: the package is an optional
 * dependency, which tsup would otherwise copy (SQLite and TLS code included) into our build.
 */
const EMULATOR_PACKAGE: string = '@b24notify/emulator';

/** Import `@b24notify/emulator`, or explain how to install it. */
export async function loadEmulator(): Promise<EmulatorModule> {
  try {
    return (await import(EMULATOR_PACKAGE)) as EmulatorModule;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new CliError(
        'the emulator is not installed',
        EXIT.unexpected,
        'npm install @b24notify/emulator (an optional dependency of @b24notify/cli)',
      );
    }
    throw err;
  }
}
