import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTls } from './packages/emulator/src/tls.js';

/**
 * One local CA for the whole run, trusted by every test worker: Node reads
 * NODE_EXTRA_CA_CERTS only at process start, so it is set here, before workers are spawned,
 * and fetch in the tests trusts the emulator's HTTPS like a user's shell would.
 */
export default async function setup(): Promise<void> {
  const dir = process.env.B24NOTIFY_TEST_TLS_DIR ?? mkdtempSync(join(tmpdir(), 'b24notify-test-ca-'));
  const tls = await ensureTls(dir);
  process.env.B24NOTIFY_TEST_TLS_DIR = dir;
  process.env.NODE_EXTRA_CA_CERTS = tls.caCertPath;
}
