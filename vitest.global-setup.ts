import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTls } from './packages/emulator/src/tls.js';

/**
 * One scratch folder and one local CA for the whole run. The CA is trusted by every test
 * worker: Node reads NODE_EXTRA_CA_CERTS only at process start, so it is set here, before
 * workers are spawned, and fetch in the tests trusts the emulator's HTTPS as a user's shell
 * would. Tests make their temporary files under B24NOTIFY_TEST_TMP, removed at the end.
 */
export default async function setup(): Promise<() => void> {
  const root = mkdtempSync(join(tmpdir(), 'b24notify-test-'));
  const caDir = process.env.B24NOTIFY_TEST_TLS_DIR ?? join(root, 'ca');
  mkdirSync(caDir, { recursive: true });
  const tls = await ensureTls(caDir);
  process.env.B24NOTIFY_TEST_TMP = root;
  process.env.B24NOTIFY_TEST_TLS_DIR = caDir;
  process.env.NODE_EXTRA_CA_CERTS = tls.caCertPath;
  return () => rmSync(root, { recursive: true, force: true });
}
