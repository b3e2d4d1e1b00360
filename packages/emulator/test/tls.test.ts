import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import forge from 'node-forge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataDir, ensureTls, type TlsMaterial } from '../src/tls.js';

const execFileAsync = promisify(execFile);
const posix = process.platform !== 'win32';

let root: string;
let counter = 0;

/** A not-yet-existing directory, so ensureTls has to create it. */
function freshDir(): string {
  counter += 1;
  return path.join(root, `home-${counter}`);
}

/** A new directory holding a copy of dir's material, to tamper with without generating a CA. */
async function clone(dir: string): Promise<string> {
  const copy = freshDir();
  await mkdir(copy, { mode: 0o700 });
  for (const name of ['ca.key', 'ca.pem', 'server.key', 'server.pem']) {
    await copyFile(path.join(dir, name), path.join(copy, name));
  }
  return copy;
}

function mode(st: { mode: number }): number {
  return st.mode & 0o777;
}

function verifiesAgainst(material: TlsMaterial): boolean {
  return new X509Certificate(material.cert).verify(new X509Certificate(material.ca).publicKey);
}

beforeAll(async () => {
  root = await mkdtemp(path.join(process.env.B24NOTIFY_TEST_TMP ?? tmpdir(), 'b24notify-tls-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('dataDir', () => {
  it('prefers the explicit override, then XDG_DATA_HOME, then the platform convention', () => {
    expect(dataDir({ B24NOTIFY_EMULATOR_HOME: '/srv/emu', XDG_DATA_HOME: '/x' }, 'linux')).toBe('/srv/emu');
    expect(dataDir({ XDG_DATA_HOME: '/x/data', HOME: '/home/u' }, 'linux')).toBe(
      '/x/data/b24notify-emulator',
    );
    expect(dataDir({ XDG_DATA_HOME: 'relative', HOME: '/home/u' }, 'linux')).toBe(
      '/home/u/.local/share/b24notify-emulator',
    );
    expect(dataDir({ HOME: '/Users/u' }, 'darwin')).toBe(
      '/Users/u/Library/Application Support/b24notify-emulator',
    );
    expect(dataDir({ LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' }, 'win32')).toBe(
      'C:\\Users\\u\\AppData\\Local\\b24notify-emulator',
    );
    expect(dataDir({ USERPROFILE: 'C:\\Users\\u' }, 'win32')).toBe(
      'C:\\Users\\u\\AppData\\Local\\b24notify-emulator',
    );
  });
});

describe('ensureTls', () => {
  let dir: string;
  let first: TlsMaterial;

  beforeAll(async () => {
    dir = freshDir();
    first = await ensureTls(dir);
  });

  it('creates the files with private modes and leaves no temp or lock files', async () => {
    expect((await readdir(dir)).sort()).toEqual(['ca.key', 'ca.pem', 'server.key', 'server.pem']);
    expect(first.caCertPath).toBe(path.join(dir, 'ca.pem'));
    expect(await readFile(first.caCertPath, 'utf8')).toBe(first.ca);
    expect(await readFile(path.join(dir, 'server.pem'), 'utf8')).toBe(first.cert);
    expect(await readFile(path.join(dir, 'server.key'), 'utf8')).toBe(first.key);
    if (posix) {
      expect(mode(await stat(dir))).toBe(0o700);
      expect(mode(await stat(path.join(dir, 'ca.key')))).toBe(0o600);
      expect(mode(await stat(path.join(dir, 'server.key')))).toBe(0o600);
    }
  });

  it('issues a CA and a localhost server certificate that chain to it', () => {
    const ca = new X509Certificate(first.ca);
    const server = new X509Certificate(first.cert);
    expect(ca.ca).toBe(true);
    expect(ca.subject).toContain('CN=b24notify emulator local CA');
    expect(server.ca).toBe(false);
    expect(verifiesAgainst(first)).toBe(true);
    expect(server.checkIssued(ca)).toBe(true);
    expect(server.checkHost('localhost')).toBe('localhost');
    expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(server.checkIP('::1')).toBeDefined();
    expect(server.subjectAltName).toContain('DNS:localhost');
    expect(server.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(server.subjectAltName).toMatch(/IP Address:(0:0:0:0:0:0:0:1|::1)\b/);
    expect(server.keyUsage).toContain('1.3.6.1.5.5.7.3.1');
    const lifetime = Date.parse(server.validTo) - Date.parse(server.validFrom);
    expect(lifetime).toBeLessThanOrEqual(397 * 24 * 3600 * 1000);
    const caLifetimeYears = (Date.parse(ca.validTo) - Date.parse(ca.validFrom)) / (365 * 24 * 3600 * 1000);
    expect(caLifetimeYears).toBeCloseTo(10, 1);
  });

  it('sets the CA extensions and matching key identifiers', () => {
    const ca = forge.pki.certificateFromPem(first.ca);
    const server = forge.pki.certificateFromPem(first.cert);
    expect(ca.getExtension('basicConstraints')).toMatchObject({ cA: true, critical: true });
    expect(ca.getExtension('keyUsage')).toMatchObject({ keyCertSign: true, cRLSign: true });
    expect(server.getExtension('basicConstraints')).toMatchObject({ cA: false });
    const caSki = ca.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier: string };
    const aki = server.getExtension('authorityKeyIdentifier') as { value: string };
    // The AKI value is a DER SEQUENCE whose [0] keyIdentifier holds the issuer's SKI.
    expect(forge.util.bytesToHex(aki.value)).toContain(caSki.subjectKeyIdentifier);
    expect(server.getExtension('subjectKeyIdentifier')).toBeDefined();
    expect(server.serialNumber).toMatch(/^[0-7]/);
  });

  it('reuses the CA and the still-valid server certificate on the next start', async () => {
    const again = await ensureTls(dir);
    expect(again).toEqual(first);
  });

  it('adds host names when asked, keeps the names it had, and reuses a certificate that has them', async () => {
    const named = freshDir();
    const plain = await ensureTls(named, ['localhost', '127.0.0.1', '::1', 'Crm.Localhost.']);
    // localhost and addresses are always there; a DNS name is added, lower-case, without the dot.
    const first = new X509Certificate(plain.cert);
    expect(first.checkHost('crm.localhost', { wildcards: false })).toBe('crm.localhost');
    expect(first.subjectAltName?.match(/DNS:/g)).toHaveLength(2);
    expect(await ensureTls(named, ['crm.localhost'])).toEqual(plain);
    expect(await ensureTls(named)).toEqual(plain);
    const more = await ensureTls(named, ['sales.localhost']);
    expect(more.ca).toBe(plain.ca);
    expect(more.cert).not.toBe(plain.cert);
    const both = new X509Certificate(more.cert);
    for (const name of ['localhost', 'crm.localhost', 'sales.localhost'])
      expect(both.checkHost(name, { wildcards: false }), name).toBe(name);
    expect(verifiesAgainst(more)).toBe(true);
  });

  it('lets concurrent starts on an empty directory agree on one CA', async () => {
    const shared = freshDir();
    const results = await Promise.all([ensureTls(shared), ensureTls(shared), ensureTls(shared)]);
    const onDisk = await readFile(path.join(shared, 'ca.pem'), 'utf8');
    for (const r of results) {
      expect(r.ca).toBe(onDisk);
      expect(verifiesAgainst(r)).toBe(true);
    }
    expect((await readdir(shared)).sort()).toEqual(['ca.key', 'ca.pem', 'server.key', 'server.pem']);
  });

  it('breaks a lock left behind by a process that died', async () => {
    const orphaned = await clone(dir);
    await rm(path.join(orphaned, 'server.pem'));
    const { stdout } = await execFileAsync(process.execPath, ['-e', 'console.log(process.pid)']);
    const lock = path.join(orphaned, '.tls.lock');
    await writeFile(lock, `${stdout.trim()}:deadbeef`);
    // Dated an hour ahead, the lock never turns stale by age during the test: if ensureTls
    // returns at all, it broke the lock because its process is gone, however slow the machine.
    const ahead = new Date(Date.now() + 3600_000);
    await utimes(lock, ahead, ahead);
    const tls = await ensureTls(orphaned);
    expect(tls.ca).toBe(first.ca);
    expect(verifiesAgainst(tls)).toBe(true);
    expect(await readdir(orphaned)).not.toContain('.tls.lock');
  });

  it('regenerates a corrupted CA and reissues the server certificate', async () => {
    const broken = await clone(dir);
    await writeFile(path.join(broken, 'ca.pem'), '-----BEGIN CERTIFICATE-----\ngarbage\n');
    const after = await ensureTls(broken);
    expect(after.ca).not.toBe(first.ca);
    expect(after.cert).not.toBe(first.cert);
    expect(verifiesAgainst(after)).toBe(true);
    expect(await readFile(path.join(broken, 'ca.pem'), 'utf8')).toBe(after.ca);
  });

  it('reissues a server certificate that another CA signed', async () => {
    const other = freshDir();
    const otherTls = await ensureTls(other);
    const target = await clone(dir);
    await copyFile(path.join(other, 'ca.key'), path.join(target, 'ca.key'));
    await copyFile(path.join(other, 'ca.pem'), path.join(target, 'ca.pem'));
    const after = await ensureTls(target);
    expect(after.ca).toBe(otherTls.ca);
    expect(after.cert).not.toBe(first.cert);
    expect(verifiesAgainst(after)).toBe(true);
  });

  it('reissues a server certificate that expires within a day', async () => {
    const expiring = await clone(dir);
    const old = forge.pki.certificateFromPem(first.cert);
    const cert = forge.pki.createCertificate();
    cert.publicKey = old.publicKey;
    cert.serialNumber = '01';
    cert.validity.notBefore = new Date(Date.now() - 3600_000);
    cert.validity.notAfter = new Date(Date.now() + 3600_000);
    cert.setSubject(old.subject.attributes);
    cert.setIssuer(old.issuer.attributes);
    cert.setExtensions(old.extensions);
    cert.sign(
      forge.pki.privateKeyFromPem(await readFile(path.join(dir, 'ca.key'), 'utf8')),
      forge.md.sha256.create(),
    );
    const shortLived = forge.pki.certificateToPem(cert);
    await writeFile(path.join(expiring, 'server.pem'), shortLived);
    const after = await ensureTls(expiring);
    expect(after.ca).toBe(first.ca);
    expect(after.cert).not.toBe(shortLived);
    expect(verifiesAgainst(after)).toBe(true);
    expect(Date.parse(new X509Certificate(after.cert).validTo)).toBeGreaterThan(Date.now() + 300 * 86400_000);
  });

  describe('over a real HTTPS server', () => {
    let server: https.Server;
    let port: number;

    beforeAll(async () => {
      server = https.createServer({ key: first.key, cert: first.cert }, (_req, res) => {
        res.writeHead(204).end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
    });

    afterAll(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    function get(servername: string | undefined): Promise<number | undefined> {
      return new Promise((resolve, reject) => {
        const options: https.RequestOptions = {
          host: '127.0.0.1',
          port,
          path: '/',
          ca: first.ca,
          agent: false,
        };
        if (servername) options.servername = servername;
        https.get(options, (res) => resolve(res.resume().statusCode)).on('error', reject);
      });
    }

    it('is reached by https.get trusting the CA, by IP and by the name localhost', async () => {
      expect(await get(undefined)).toBe(204);
      expect(await get('localhost')).toBe(204);
    });

    async function fetchInChild(extraCa: string | undefined): Promise<string> {
      const env = { ...process.env };
      delete env['NODE_TLS_REJECT_UNAUTHORIZED'];
      delete env['NODE_EXTRA_CA_CERTS'];
      if (extraCa) env['NODE_EXTRA_CA_CERTS'] = extraCa;
      const code = `fetch(${JSON.stringify(`https://127.0.0.1:${port}/`)}).then(
        (r) => console.log(r.status),
        (e) => console.log('error', e.cause && e.cause.code),
      );`;
      const { stdout } = await execFileAsync(process.execPath, ['-e', code], { env, timeout: 50_000 });
      return stdout.trim();
    }

    it('is reached by fetch in a child process started with NODE_EXTRA_CA_CERTS', async () => {
      const [trusted, untrusted] = await Promise.all([
        fetchInChild(first.caCertPath),
        fetchInChild(undefined),
      ]);
      expect(trusted).toBe('204');
      expect(untrusted).toMatch(/^error/);
    });
  });
});
