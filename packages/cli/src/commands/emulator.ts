/**
 * `b24notify emulator`: start the local Bitrix24 emulator (`@b24notify/emulator`) with its own
 * options, print its credentials ready to paste, and stop cleanly on Ctrl+C or SIGTERM.
 */
import type { PortalConfig, PortalsConfig, RunningEmulator } from '@b24notify/emulator';
import { defineCommand } from '../command.js';
import { CliError, EXIT, UsageError } from '../errors.js';
import { helpFlag } from '../flags.js';
import { loadEmulator } from '../optional.js';
import { intInRange } from '../parse.js';

const NAME = 'emulator';

/** The port the emulator listens on unless told otherwise, as its own binary does. */
const DEFAULT_PORT = 24024;

/** The closing example of the banner: this CLI, from another shell. */
export function tryLines(emu: RunningEmulator): string[] {
  return [
    ...(emu.caCertPath ? [`  export NODE_EXTRA_CA_CERTS="${emu.caCertPath}"`] : []),
    `  export B24_WEBHOOK_URL="${emu.webhookUrl}"`,
    '  b24notify send --user 1 --text "Hello from b24notify"',
  ];
}

export const command = defineCommand({
  meta: {
    name: NAME,
    summary: 'start a local Bitrix24 emulator',
    usage: 'emulator [--port N] [--host ADDR] [--https] [--config FILE] [--data FILE] [--plan NAME]',
    description: `Starts @b24notify/emulator, a local portal answering im.notify.*, batch and OAuth like a
cloud portal, with its limits and an inspection API. Its webhook URL and tokens are printed in full:
they are generated for it and open nothing else.`,
    examples: [
      'b24notify emulator',
      'b24notify emulator --https --port 8443',
      'b24notify emulator --plan off --data portal.db',
    ],
  },
  options: {
    port: {
      type: 'string',
      valueName: 'N',
      description: `port (default ${DEFAULT_PORT}; 0 picks a free one)`,
    },
    host: { type: 'string', valueName: 'ADDR', description: 'address to bind (default 127.0.0.1)' },
    https: { type: 'boolean', description: "serve HTTPS with a certificate from the emulator's local CA" },
    config: {
      type: 'string',
      valueName: 'FILE',
      description: 'portal settings as JSON (users, webhooks, limits, chaos…)',
    },
    data: {
      type: 'string',
      valueName: 'FILE',
      description: 'keep the portal in this SQLite file across restarts',
    },
    plan: {
      type: 'string',
      valueName: 'NAME',
      description: 'limits preset: standard (default), enterprise or off',
    },
    ...helpFlag,
  },
  async run({ values, io }) {
    const port = values.port === undefined ? DEFAULT_PORT : intInRange('--port', values.port, 0, 65535, NAME);
    const emulator = await loadEmulator();
    const portal: Partial<PortalConfig> = {};
    let many: PortalsConfig | undefined;
    if (values.config !== undefined) {
      try {
        // One portal's settings, or {"portals": [...]} for several in one emulator.
        const loaded = emulator.loadEmulatorConfig(values.config);
        if ('portals' in loaded) many = loaded;
        else Object.assign(portal, loaded);
      } catch (err) {
        if (err instanceof emulator.ConfigError) throw new UsageError(`--config ${err.message}`, NAME);
        throw err;
      }
    }
    if (values.plan !== undefined) {
      if (!Object.hasOwn(emulator.PRESETS, values.plan)) {
        throw new UsageError(`--plan: expected standard, enterprise or off, got "${values.plan}"`, NAME);
      }
      portal.plan = values.plan as PortalConfig['plan'];
    }
    let emu: RunningEmulator;
    try {
      emu = await emulator.startEmulator({
        port,
        portal,
        ...(many
          ? { portals: many.portals, ...(many.addressing ? { addressing: many.addressing } : {}) }
          : {}),
        ...(values.host !== undefined ? { host: values.host } : {}),
        ...(values.https ? { https: true } : {}),
        ...(values.data !== undefined ? { dataPath: values.data } : {}),
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') {
        throw new CliError(
          `port ${port} is in use`,
          EXIT.unexpected,
          'Pick another with --port, or --port 0 for a free one.',
        );
      }
      if (code === 'EADDRNOTAVAIL') {
        throw new CliError(
          `cannot listen on ${values.host ?? '127.0.0.1'}: no network interface of this machine has that address`,
          EXIT.usage,
          'Use 127.0.0.1 (the default), 0.0.0.0 for every interface, or an address this machine has (ip addr).',
        );
      }
      if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
        throw new CliError(
          `cannot listen on ${values.host ?? ''}: the name does not resolve to an address`,
          EXIT.usage,
          'Pass an IP address, like 127.0.0.1 or 0.0.0.0, or a name this machine resolves.',
        );
      }
      if (code === 'EACCES') {
        throw new CliError(
          `not allowed to listen on port ${port}`,
          EXIT.unexpected,
          'Use a port above 1023.',
        );
      }
      throw err;
    }
    io.outUnmasked(`${emulator.banner(emu, tryLines(emu))}\n`);
    await new Promise<void>((resolve) => {
      const off = io.onStop(() => {
        off();
        resolve();
      });
    });
    await emu.close();
    return 0;
  },
});
