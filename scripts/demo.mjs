// The main job on the embedded emulator: start a local portal, send a personal notification
// with a picture and a file block exactly as OPI's CreatePersonalNotification example does
// (through b24notify's OPI layer), print Bitrix24's answer, and say where to look at it: the
// inbox page at http://127.0.0.1:24024/ while the demo keeps running in a terminal.
import { startEmulator } from '@b24notify/emulator';
import { CreatePersonalNotification, GetFileBlock, GetPictureBlock } from 'b24notify/opi';

const keep = process.stdout.isTTY && !process.argv.includes('--exit');
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
  console.log(`Notification ${Result.result} is stored in the emulator. Look at it in the inbox:`);
  console.log(`  ${emu.url}/`);
  console.log('or through the inspection API:');
  console.log(`  ${emu.url}/_emulator/api/notifications/${Result.result}`);
  console.log(`  ${emu.url}/_emulator/api/notifications?user=${UserID}`);
} else {
  console.log('The portal refused the notification: see "error" above.');
  process.exitCode = 1;
}

if (keep) {
  console.log(`\nThe emulator keeps running. Open the inbox in a browser: ${emu.url}/`);
  console.log('Notifications you send to it appear there live. Press Ctrl+C to stop.');
  const stop = () => emu.close().then(() => process.exit(process.exitCode ?? 0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
} else {
  await emu.close();
}
