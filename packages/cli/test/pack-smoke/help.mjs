// Pack smoke test (scripts/pack-smoke.mjs runs it in a folder where only the packed CLI is
// installed): the command a README tells a user to run first, through npx as they would.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const npx = (...args) => execFileSync('npx', ['--no-install', 'b24notify', ...args], { encoding: 'utf8' });

const help = npx('--help');
if (!/Usage/i.test(help) || !help.includes('send')) {
  throw new Error(`b24notify --help printed no usage with the send command:\n${help}`);
}
const { version } = JSON.parse(readFileSync(require.resolve('@b24notify/cli/package.json'), 'utf8'));
const printed = npx('--version').trim();
if (!printed.includes(version))
  throw new Error(`b24notify --version printed "${printed}", expected ${version}`);
// The emulator and outbox commands need the optional packages, installed with the CLI.
for (const name of ['@b24notify/emulator', '@b24notify/outbox']) require.resolve(name);
console.log(`npx b24notify --help and --version (${printed}) work; the optional packages are installed`);
