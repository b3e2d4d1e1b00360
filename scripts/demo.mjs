// The main job on the embedded emulator: start a local portal, send a personal notification
// with a picture and a file block exactly as OPI's CreatePersonalNotification example does
// (through b24notify's OPI layer), print Bitrix24's answer, then deliver a bulk of 500 through
// the durable outbox (batches of 50, paced for the portal's limits), and say where to look: the
// inbox page at http://127.0.0.1:24024/ and the webhook URL to send more to, while the demo keeps
// running. On a terminal it keeps running until Ctrl+C; elsewhere (CI, a pipe) it exits and
// prints no address, since nothing would answer there: --keep keeps it running anyway, --exit
// makes a terminal exit too.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmulator } from '@b24notify/emulator';
import { openOutbox } from '@b24notify/outbox';
import { createClient } from 'b24notify';
import { CreatePersonalNotification, GetFileBlock, GetPictureBlock } from 'b24notify/opi';

const keep = process.argv.includes('--keep') || (process.stdout.isTTY && !process.argv.includes('--exit'));
// A fixed port is friendlier to look at; when it is taken, any free one will do.
const emu = await startEmulator({ port: keep ? 24024 : 0 }).catch(() => startEmulator());

const UserID = 1;
const URL = emu.webhookUrl;
const Text = 'Message text';
const Image =
  'https://raw.githubusercontent.com/Bayselonarrend/OpenIntegrations/main/service/test_data/picture.jpg';
const File = 'https://github.com/Bayselonarrend/OpenIntegrations/raw/main/service/test_data/document.docx';

const Attachments = [GetPictureBlock('Image1', Image), GetFileBlock('File1.docx', File)];
const Result = await CreatePersonalNotification(URL, UserID, Text, '', Attachments);

console.log('Result');
console.log(JSON.stringify(Result, null, 2));
console.log();
if (typeof Result.result === 'number') {
  console.log(
    `Notification ${Result.result} is stored in the emulator${keep ? '.' : ', which stops when the demo ends.'}`,
  );
} else {
  console.log('The portal refused the notification: see "error" above.');
  process.exitCode = 1;
}

// Bulk: 500 system notifications for the portal's users, queued in a SQLite outbox and delivered
// through batch. Every message carries a tag, so a delivery killed and resumed shows none twice.
const dir = mkdtempSync(path.join(tmpdir(), 'b24notify-demo-'));
const outbox = openOutbox(path.join(dir, 'outbox.db'));
const users = [1, 2, 3, 5, 10];
outbox.add(
  Array.from({ length: 500 }, (_, i) => ({
    kind: 'system',
    userId: users[i % users.length],
    message: `Maintenance window #${i + 1} tonight at 22:00`,
  })),
);
const report = await outbox.deliver(createClient({ webhookUrl: URL }));
outbox.close();
rmSync(dir, { recursive: true, force: true });
const refused = emu.portal.log.list(10_000).filter((r) => r.status === 503).length;
console.log();
console.log(
  `Bulk: ${report.sent} notifications delivered through the outbox in ${report.batches} batches ` +
    `(${report.durationMs} ms), ${report.failed} failed; requests the portal refused for its limits: ${refused}.`,
);
if (report.sent !== 500 || refused > 0) process.exitCode = 1;

if (keep) {
  console.log(`\nThe emulator keeps running. Open the inbox in a browser: ${emu.url}/`);
  console.log('Send it more and watch them arrive there live, from another shell:');
  console.log(`  export B24_WEBHOOK_URL="${emu.webhookUrl}"`);
  console.log('  npx b24notify send --user 1 --text "Hello from b24notify"');
  console.log(
    `  curl -s -H 'content-type: application/json' -d '{"USER_ID":1,"MESSAGE":"Hello"}' "$B24_WEBHOOK_URL"im.notify.personal.add`,
  );
  console.log(`The inspection API: ${emu.url}/_emulator/api/notifications?user=${UserID}`);
  console.log('These credentials belong to this local emulator only. Press Ctrl+C to stop.');
  const stop = () => emu.close().then(() => process.exit(process.exitCode ?? 0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
} else {
  await emu.close();
  console.log(
    '\nThe emulator has stopped. To look at the notifications in the inbox and send more, run the ' +
      'demo in a terminal (npm run demo), or with --keep: node scripts/demo.mjs --keep',
  );
}
