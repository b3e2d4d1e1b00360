// Pack smoke test (scripts/pack-smoke.mjs runs it in a folder where only the packed emulator is
// installed): `npx b24notify-emulator` starts, answers REST calls and serves the inbox page on the
// port it printed, and stops on SIGTERM.
import { spawn } from 'node:child_process';

const child = spawn('npx', ['--no-install', 'b24notify-emulator', '--port', '0'], {
  stdio: ['ignore', 'pipe', 'pipe'],
  detached: true,
});
let output = '';
child.stdout.on('data', (chunk) => (output += chunk));
child.stderr.on('data', (chunk) => (output += chunk));
const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
const stop = () => {
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    // Already gone.
  }
};

try {
  // The banner is printed once the port is bound; the process ending first is a failure.
  const webhook = await new Promise((resolve, reject) => {
    const look = () => {
      const found = /Webhook URL:\s*(http\S+)/.exec(output);
      if (found) resolve(found[1]);
    };
    child.stdout.on('data', look);
    exited.then((code) =>
      reject(new Error(`b24notify-emulator exited (${code}) before printing its banner:\n${output}`)),
    );
  });
  const profile = await fetch(`${webhook}profile`);
  const body = await profile.json();
  if (profile.status !== 200 || typeof body.result?.ID === 'undefined') {
    throw new Error(`profile answered ${profile.status}: ${JSON.stringify(body)}`);
  }
  const inbox = await fetch(new URL('/', webhook));
  const html = await inbox.text();
  if (inbox.status !== 200 || !html.includes('ui/app.js')) {
    throw new Error(`the inbox page answered ${inbox.status}: ${html.slice(0, 300)}`);
  }
  console.log(`npx b24notify-emulator answered on ${new URL(webhook).host}: REST profile and the inbox page`);
} finally {
  stop();
  await exited;
}
