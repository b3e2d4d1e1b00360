/**
 * HTTPS material for the emulator: a local CA that lives in a per-user data directory, so a client
 * that trusts it once (`NODE_EXTRA_CA_CERTS=<ca.pem>`) stays trusted across restarts, and a server
 * certificate for `localhost`, `127.0.0.1` and `::1` signed by it, plus the host names of the
 * portals an emulator with Host addressing serves (`a.localhost`…): clients check the name they
 * dialled, and `*.localhost` cannot stand in for them (a wildcard over a single-label suffix is
 * refused by Node, `tls.checkServerIdentity`, as by browsers).
 *
 * Keys come from Node's native generator; node-forge only assembles and signs the X.509
 * certificates, because its pure-JS key generation takes seconds. Validation of what is on disk
 * uses Node's OpenSSL-backed `X509Certificate`, i.e. the same code that will later serve the
 * certificate, so anything it rejects here would have failed at handshake time anyway.
 */
import { X509Certificate, createPrivateKey, generateKeyPair, randomBytes } from 'node:crypto';
import { open, mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { isIP } from 'node:net';
import { homedir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import forge from 'node-forge';

/** What an HTTPS server needs, plus the CA a client must trust to reach it. */
export interface TlsMaterial {
  /** The server's private key (PKCS#8 PEM). */
  key: string;
  /** The server certificate (PEM), signed by `ca`. */
  cert: string;
  /** The local CA certificate (PEM). */
  ca: string;
  /** Where `ca` is stored: the value for `NODE_EXTRA_CA_CERTS`. */
  caCertPath: string;
}

const APP_DIR = 'b24notify-emulator';
const CA_KEY = 'ca.key';
const CA_CERT = 'ca.pem';
const SERVER_KEY = 'server.key';
const SERVER_CERT = 'server.pem';
const LOCK = '.tls.lock';

const DAY_MS = 24 * 60 * 60 * 1000;
const CA_VALIDITY_MS = 10 * 365 * DAY_MS;
// The CA/Browser Forum and Apple cap TLS server certificates at 398 days; stay one under.
const SERVER_VALIDITY_MS = 397 * DAY_MS;
// Backdating absorbs small clock differences between this host and its clients.
const BACKDATE_MS = 60 * 60 * 1000;
const MIN_REMAINING_MS = DAY_MS;
// Generating and writing takes well under a second; a lock this old was left by a crash.
const LOCK_STALE_MS = 30_000;
// Host names a server certificate carries beyond localhost: those asked for now and those it
// carried before (emulators with other portals may share the directory), up to this many.
const MAX_HOST_NAMES = 200;

const generateKeyPairAsync = promisify(generateKeyPair);

/**
 * The per-user data directory: `$B24NOTIFY_EMULATOR_HOME`, else `$XDG_DATA_HOME/b24notify-emulator`,
 * else the platform's convention (`%LOCALAPPDATA%\b24notify-emulator` on Windows,
 * `~/Library/Application Support/b24notify-emulator` on macOS, `~/.local/share/b24notify-emulator`
 * elsewhere).
 *
 * @param env - The environment to read; defaults to `process.env`.
 * @param platform - The platform whose convention applies; defaults to `process.platform`.
 */
export function dataDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string {
  const p = platform === 'win32' ? path.win32 : path.posix;
  const override = env['B24NOTIFY_EMULATOR_HOME'];
  if (override) return p.resolve(override);
  // The XDG spec says relative values are invalid and must be ignored.
  const xdg = env['XDG_DATA_HOME'];
  if (xdg && p.isAbsolute(xdg)) return p.join(xdg, APP_DIR);
  const home = (platform === 'win32' ? env['USERPROFILE'] : env['HOME']) || homedir();
  if (platform === 'win32') return p.join(env['LOCALAPPDATA'] || p.join(home, 'AppData', 'Local'), APP_DIR);
  if (platform === 'darwin') return p.join(home, 'Library', 'Application Support', APP_DIR);
  return p.join(home, '.local', 'share', APP_DIR);
}

/**
 * Loads the local CA from `dir` (creating it when missing, unreadable or invalid), then loads the
 * server certificate or issues a new one when it is missing, not signed by that CA, or valid for
 * one more day at most. Files: `ca.key` (0600), `ca.pem`, `server.key` (0600), `server.pem`; the
 * directory is created with mode 0700. Safe to call from several processes at once.
 *
 * The server certificate also names every one of `hostNames` (DNS names, such as the
 * `<name>.localhost` of each portal with Host addressing); one that lacks any is issued again,
 * naming them and the names it had.
 *
 * @param dir - Where the material lives; defaults to {@link dataDir}.
 * @param hostNames - DNS names the server certificate must also be valid for.
 */
export async function ensureTls(
  dir: string = dataDir(),
  hostNames: readonly string[] = [],
): Promise<TlsMaterial> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const names = dnsNames(hostNames);
  // The common case (everything valid) reads without locking; a writer renames each file
  // atomically, so the worst a reader sees is a mismatched pair, which sends it down the locked path.
  const ready = await loadAll(dir, names);
  if (ready) return ready;
  return withLock(dir, async () => {
    // Another process may have finished while this one waited for the lock.
    let ca = await loadCa(dir);
    if (!ca) {
      ca = await createCa();
      await writeAtomic(dir, CA_KEY, ca.keyPem, 0o600);
      await writeAtomic(dir, CA_CERT, ca.certPem, 0o644);
    }
    let server = await loadServer(dir, ca, names);
    if (!server) {
      const before = (await namesBefore(dir, ca)).filter((name) => !names.includes(name));
      server = await issueServer(ca, [...names, ...before].slice(0, Math.max(names.length, MAX_HOST_NAMES)));
      await writeAtomic(dir, SERVER_KEY, server.keyPem, 0o600);
      await writeAtomic(dir, SERVER_CERT, server.certPem, 0o644);
    }
    return material(dir, ca, server);
  });
}

interface Pair {
  keyPem: string;
  certPem: string;
}

interface Ca extends Pair {
  x509: X509Certificate;
}

function material(dir: string, ca: Ca, server: Pair): TlsMaterial {
  return { key: server.keyPem, cert: server.certPem, ca: ca.certPem, caCertPath: path.join(dir, CA_CERT) };
}

/** The DNS names among `hostNames`, lower-case, once each: no IP address, no `localhost`. */
function dnsNames(hostNames: readonly string[]): string[] {
  const out = new Set<string>();
  for (const raw of hostNames) {
    const name = raw.toLowerCase().replace(/\.$/, '');
    if (name === 'localhost' || isIP(name) !== 0 || name.includes(':')) continue;
    if (
      /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?)*$/.test(
        name,
      )
    )
      out.add(name);
  }
  return [...out];
}

/** The DNS names, beyond localhost, of the server certificate in `dir`, when `ca` issued it. */
async function namesBefore(dir: string, ca: Ca): Promise<string[]> {
  const pair = await readPair(dir, SERVER_KEY, SERVER_CERT);
  if (!pair) return [];
  try {
    const x509 = new X509Certificate(pair.certPem);
    if (!x509.checkIssued(ca.x509)) return [];
    const names = (x509.subjectAltName ?? '')
      .split(', ')
      .filter((entry) => entry.startsWith('DNS:'))
      .map((entry) => entry.slice(4));
    return dnsNames(names);
  } catch {
    return [];
  }
}

async function loadAll(dir: string, names: readonly string[]): Promise<TlsMaterial | undefined> {
  const ca = await loadCa(dir);
  if (!ca) return undefined;
  const server = await loadServer(dir, ca, names);
  return server && material(dir, ca, server);
}

async function readPair(dir: string, keyName: string, certName: string): Promise<Pair | undefined> {
  try {
    const [keyPem, certPem] = await Promise.all([
      readFile(path.join(dir, keyName), 'utf8'),
      readFile(path.join(dir, certName), 'utf8'),
    ]);
    return { keyPem, certPem };
  } catch {
    // Missing and unreadable files alike are replaced rather than reported.
    return undefined;
  }
}

async function loadCa(dir: string): Promise<Ca | undefined> {
  const pair = await readPair(dir, CA_KEY, CA_CERT);
  return pair && checkCa(pair);
}

function checkCa(pair: Pair): Ca | undefined {
  try {
    const x509 = new X509Certificate(pair.certPem);
    const key = createPrivateKey(pair.keyPem);
    // forge can only sign with RSA, so any other key could not issue the server certificate.
    if (key.asymmetricKeyType !== 'rsa') return undefined;
    if (!x509.ca || !x509.checkPrivateKey(key) || !x509.verify(x509.publicKey)) return undefined;
    if (!stillValid(x509)) return undefined;
    forge.pki.privateKeyFromPem(pair.keyPem);
    forge.pki.certificateFromPem(pair.certPem);
    return { ...pair, x509 };
  } catch {
    return undefined;
  }
}

async function loadServer(dir: string, ca: Ca, names: readonly string[]): Promise<Pair | undefined> {
  const pair = await readPair(dir, SERVER_KEY, SERVER_CERT);
  return pair && serverUsable(pair, ca, names) ? pair : undefined;
}

function serverUsable(pair: Pair, ca: Ca, names: readonly string[]): boolean {
  try {
    const x509 = new X509Certificate(pair.certPem);
    return (
      !x509.ca &&
      x509.checkIssued(ca.x509) &&
      x509.verify(ca.x509.publicKey) &&
      x509.checkPrivateKey(createPrivateKey(pair.keyPem)) &&
      stillValid(x509) &&
      x509.checkHost('localhost') !== undefined &&
      x509.checkIP('127.0.0.1') !== undefined &&
      x509.checkIP('::1') !== undefined &&
      names.every((name) => x509.checkHost(name, { wildcards: false }) !== undefined)
    );
  } catch {
    return false;
  }
}

function stillValid(x509: X509Certificate): boolean {
  const now = Date.now();
  const from = Date.parse(x509.validFrom);
  const to = Date.parse(x509.validTo);
  return (
    Number.isFinite(from) && Number.isFinite(to) && from <= now + BACKDATE_MS && to - now > MIN_REMAINING_MS
  );
}

async function newRsaKeyPair(): Promise<{ publicKey: string; privateKey: string }> {
  return generateKeyPairAsync('rsa', {
    modulusLength: 2048,
    publicExponent: 0x10001,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

function randomSerial(): string {
  const bytes = randomBytes(16);
  // A DER INTEGER is signed and minimally encoded: a clear top bit keeps the serial positive and
  // a non-zero first byte keeps the encoding minimal, which strict parsers insist on.
  bytes.writeUInt8((bytes.readUInt8(0) & 0x7f) | 0x40, 0);
  return bytes.toString('hex');
}

async function createCa(): Promise<Ca> {
  const { publicKey, privateKey } = await newRsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
  cert.serialNumber = randomSerial();
  const notBefore = Date.now() - BACKDATE_MS;
  cert.validity.notBefore = new Date(notBefore);
  cert.validity.notAfter = new Date(notBefore + CA_VALIDITY_MS);
  const name = [{ name: 'commonName', value: 'b24notify emulator local CA' }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
    // Self-signed, so "keyIdentifier: true" (this certificate's own key) is the right authority.
    { name: 'authorityKeyIdentifier', keyIdentifier: true },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(privateKey), forge.md.sha256.create());
  const pair = { keyPem: privateKey, certPem: forge.pki.certificateToPem(cert) };
  const ca = checkCa(pair);
  if (!ca) throw new Error('tls: the newly generated CA certificate failed validation');
  return ca;
}

/** The CA's key identifier as stored in its certificate, so the server's AKI matches it byte for byte. */
function caKeyIdentifier(caCert: forge.pki.Certificate): string {
  const ext = caCert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | undefined;
  return ext?.subjectKeyIdentifier
    ? forge.util.hexToBytes(ext.subjectKeyIdentifier)
    : caCert.generateSubjectKeyIdentifier().getBytes();
}

async function issueServer(ca: Ca, names: readonly string[]): Promise<Pair> {
  const { publicKey, privateKey } = await newRsaKeyPair();
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey);
  cert.serialNumber = randomSerial();
  const notBefore = Date.now() - BACKDATE_MS;
  cert.validity.notBefore = new Date(notBefore);
  // A leaf outliving its issuer would be rejected by clients anyway.
  cert.validity.notAfter = new Date(
    Math.min(notBefore + SERVER_VALIDITY_MS, caCert.validity.notAfter.getTime()),
  );
  cert.setSubject([{ name: 'commonName', value: 'localhost' }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        { type: 2, value: 'localhost' },
        ...names.map((value) => ({ type: 2, value })),
        { type: 7, ip: '127.0.0.1' },
        { type: 7, ip: '::1' },
      ],
    },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caKeyIdentifier(caCert) },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(ca.keyPem), forge.md.sha256.create());
  const pair = { keyPem: privateKey, certPem: forge.pki.certificateToPem(cert) };
  // Failing here beats writing a certificate that every later start would silently reissue.
  if (!serverUsable(pair, ca, names))
    throw new Error('tls: the newly issued server certificate failed validation');
  return pair;
}

/** Writes via a uniquely named temp file and a rename, so readers never see a half-written file. */
async function writeAtomic(dir: string, name: string, data: string, mode: number): Promise<void> {
  const tmp = path.join(dir, `.${name}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'wx', mode);
    try {
      // The umask may have narrowed the creation mode; the intended mode is part of the contract.
      if (process.platform !== 'win32') await fh.chmod(mode);
      await fh.writeFile(data, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path.join(dir, name));
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

function errnoCode(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM means the process exists but belongs to someone else.
    return errnoCode(err) === 'EPERM';
  }
}

/** True when the lock's holder is gone: its process no longer exists, or it has held it too long. */
async function lockIsStale(lockPath: string): Promise<boolean> {
  try {
    const [info, content] = await Promise.all([stat(lockPath), readFile(lockPath, 'utf8')]);
    if (Date.now() - info.mtimeMs > LOCK_STALE_MS) return true;
    const pid = Number.parseInt(content.split(':')[0] ?? '', 10);
    // A lock whose content is not yet written belongs to a holder that is still starting up.
    return Number.isInteger(pid) && pid > 0 && !pidAlive(pid);
  } catch {
    // Vanished between the failed create and now: simply retry.
    return false;
  }
}

/**
 * Serialises generation across processes with an exclusively created lock file, so two processes
 * never interleave writes of a key and a certificate that belong to different pairs.
 */
async function withLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const lockPath = path.join(dir, LOCK);
  const token = `${process.pid}:${randomBytes(8).toString('hex')}`;
  for (;;) {
    try {
      const fh = await open(lockPath, 'wx', 0o600);
      try {
        await fh.writeFile(token, 'utf8');
      } finally {
        await fh.close();
      }
      break;
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw err;
      if (await lockIsStale(lockPath)) await rm(lockPath, { force: true });
      else await sleep(20 + Math.random() * 40);
    }
  }
  try {
    return await fn();
  } finally {
    // Leave the lock alone if a waiter judged it stale and another process has taken it since.
    const content = await readFile(lockPath, 'utf8').catch(() => undefined);
    if (content === token) await rm(lockPath, { force: true });
  }
}
