import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, loadEmulatorConfig } from './config-file.js';
import type { PortalConfig, PortalsConfig } from './config.js';
import { banner } from './banner.js';
import { startEmulator, type RunningEmulator } from './index.js';
import { isPlanPreset } from './limits/presets.js';

/** The port the command line listens on when none is given (in-process use picks a free one). */
export const DEFAULT_PORT = 24024;

const HELP = `b24notify-emulator: a local Bitrix24 portal for notifications

Usage: b24notify-emulator [options]

Options:
  --port N          port to listen on (default ${DEFAULT_PORT}; 0 picks a free one)
  --host ADDR       address to bind (default 127.0.0.1)
  --https           serve HTTPS with a certificate from a local CA (printed on start)
  --config FILE     portal settings as JSON: users, webhooks, apps, plan, limits, chaos, ...;
                    several portals: {"portals": [{"name": "a"}, ...], "addressing": "port"|"host"}
  --data FILE       keep the portal in this SQLite file across restarts (default: in memory)
  --plan NAME       limits preset: standard (default), enterprise or off
  --seed FILE       start from a fixture (GET /_emulator/api/export, emu.export()):
                    users, webhooks, apps and notifications with their ids
  --deterministic   the same state every start: the clock stands still, secrets not
                    given are derived from the portal's name (stable snapshots)
  -h, --help        show this help
  -v, --version     show the version

Examples:
  b24notify-emulator
  b24notify-emulator --https --port 8443
  b24notify-emulator --config portal.json --data ./portal.db
  b24notify-emulator --seed fixture.json --deterministic --port 0
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** Parse the command line, start the emulator, and stop it cleanly on SIGINT/SIGTERM. */
export async function main(argv: string[] = process.argv.slice(2)): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        https: { type: 'boolean' },
        config: { type: 'string' },
        data: { type: 'string' },
        plan: { type: 'string' },
        seed: { type: 'string' },
        deterministic: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(
      `b24notify-emulator: ${err instanceof Error ? err.message : String(err)}\nRun with --help for usage.\n`,
    );
    return 2;
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(
      `b24notify-emulator: --port: expected a number from 0 to 65535, got "${values.port}"\n`,
    );
    return 2;
  }
  let portal: Partial<PortalConfig> = {};
  let many: PortalsConfig | undefined;
  try {
    const loaded = values.config ? loadEmulatorConfig(values.config) : {};
    if ('portals' in loaded) many = loaded;
    else portal = loaded;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`b24notify-emulator: --config ${err.message}\n`);
    return 2;
  }
  if (values.plan !== undefined) {
    if (!isPlanPreset(values.plan)) {
      process.stderr.write(
        `b24notify-emulator: --plan: expected standard, enterprise or off, got "${values.plan}"\n`,
      );
      return 2;
    }
    portal.plan = values.plan;
  }
  let emu: RunningEmulator;
  try {
    emu = await startEmulator({
      port,
      ...(values.host ? { host: values.host } : {}),
      ...(values.https ? { https: true } : {}),
      ...(values.data ? { dataPath: values.data } : {}),
      ...(values.seed ? { seed: values.seed } : {}),
      ...(values.deterministic ? { deterministic: true } : {}),
      // --plan applies to every portal that does not choose its own.
      portal,
      ...(many ? { portals: many.portals, ...(many.addressing ? { addressing: many.addressing } : {}) } : {}),
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'EADDRINUSE'
        ? `port ${port} is in use: pick another with --port, or --port 0 for a free one`
        : code === 'EACCES'
          ? `not allowed to listen on port ${port}: use a port above 1023`
          : err instanceof Error
            ? err.message
            : String(err);
    process.stderr.write(`b24notify-emulator: ${why}\n`);
    return 1;
  }
  process.stdout.write(`${banner(emu)}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void emu.close().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return 0;
}
