import { readFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../src/index.js';

/** The transports every conformance test runs over. */
export const TRANSPORTS = ['http', 'https'] as const;
export type Transport = (typeof TRANSPORTS)[number];

/** The run's CA (made by the global setup), so HTTPS tests do not each generate keys. */
const tlsDir = process.env.B24NOTIFY_TEST_TLS_DIR ?? mkdtempSync(join(tmpdir(), 'b24emu-tls-'));

/** An HTTP answer as the tests read it. */
export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The parsed JSON body (undefined when it is not JSON). */
  json: unknown;
  // Helpers for the common Bitrix24 shapes; `any`-free by design.
  body: Record<string, unknown>;
}

/** A running emulator plus a client that speaks real HTTP(S) to it, trusting its CA. */
export interface TestPortal {
  emu: RunningEmulator;
  transport: Transport;
  /** Raw request: path relative to the base URL. */
  request(
    path: string,
    init?: { method?: string; headers?: Record<string, string>; body?: string | Buffer },
  ): Promise<Answer>;
  /** POST JSON to a webhook method: `hook('im.notify.personal.add', {...})`. */
  hook(method: string, params?: Record<string, unknown>): Promise<Answer>;
  /** POST JSON to `/rest/METHOD` with `auth` set to the access token (or the one given). */
  oauth(method: string, params?: Record<string, unknown>, token?: string): Promise<Answer>;
  /** Call the control API. */
  control(method: string, path: string, body?: unknown): Promise<Answer>;
  close(): Promise<void>;
}

/** Start an emulator over the given transport with limits off unless the options say otherwise. */
export async function startTestPortal(
  transport: Transport,
  options: EmulatorOptions = {},
): Promise<TestPortal> {
  const emu = await startEmulator({
    ...options,
    https: transport === 'https',
    tlsDir,
    portal: { plan: 'off', ...options.portal },
  });
  const ca = emu.caCertPath ? readFileSync(emu.caCertPath) : undefined;
  const agent = ca ? new HttpsAgent({ keepAlive: true, ca }) : new HttpAgent({ keepAlive: true });
  const send = transport === 'https' ? httpsRequest : httpRequest;
  const base = new URL(emu.url);

  const request: TestPortal['request'] = (path, init = {}) =>
    new Promise((resolve, reject) => {
      const req = send(
        {
          host: base.hostname,
          port: base.port,
          path,
          method: init.method ?? 'GET',
          headers: init.headers,
          agent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              text,
              json,
              body: json !== null && typeof json === 'object' ? (json as Record<string, unknown>) : {},
            });
          });
        },
      );
      req.on('error', reject);
      req.end(init.body);
    });

  const postJson = (path: string, params: unknown): Promise<Answer> =>
    request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(params),
    });
  const hookPath = new URL(emu.webhookUrl).pathname;

  return {
    emu,
    transport,
    request,
    hook: (method, params = {}) => postJson(`${hookPath}${method}`, params),
    oauth: (method, params = {}, token = emu.tokens.accessToken) =>
      postJson(`/rest/${method}`, { ...params, auth: token }),
    control: (method, path, body) =>
      request(`/_emulator/api${path}`, {
        method,
        ...(body === undefined
          ? {}
          : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      }),
    async close() {
      agent.destroy();
      await emu.close();
    },
  };
}
