// The main job on the embedded emulator: start a local portal, send a personal notification
// with a picture and a file block (as OPI's CreatePersonalNotification example does), print
// Bitrix24's answer, and say where to look at it.
import { startEmulator } from '@b24notify/emulator';

const keep = process.stdout.isTTY && !process.argv.includes('--exit');
const emu = await startEmulator({ port: keep ? 24024 : 0 }).catch(() => startEmulator());

const attach = [
  {
    IMAGE: {
      NAME: 'Image1',
      LINK: 'https://raw.githubusercontent.com/Bayselonarrend/OpenIntegrations/main/service/test_data/picture.jpg',
    },
  },
  {
    FILE: {
      NAME: 'File1.docx',
      LINK: 'https://github.com/Bayselonarrend/OpenIntegrations/raw/main/service/test_data/document.docx',
    },
  },
];
const response = await fetch(`${emu.webhookUrl}im.notify.personal.add`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ USER_ID: 1, MESSAGE: 'Message text', ATTACH: attach }),
});
const answer = await response.json();

console.log('Result');
console.log(JSON.stringify(answer, null, 2));
console.log();
if (typeof answer.result === 'number') {
  console.log(`Notification ${answer.result} is stored in the emulator. See it at:`);
  console.log(`  ${emu.url}/_emulator/api/notifications/${answer.result}`);
} else {
  console.log('The portal refused the notification: see "error" above.');
  process.exitCode = 1;
}

if (keep) {
  console.log(`\nThe emulator keeps running at ${emu.url}; press Ctrl+C to stop.`);
  const stop = () => emu.close().then(() => process.exit(process.exitCode ?? 0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
} else {
  await emu.close();
}
