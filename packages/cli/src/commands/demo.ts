/**
 * `b24notify demo`: the whole story in one command. Starts the emulator in this process,
 * sends OPI's CreatePersonalNotification example (a picture block and a file block) through
 * `b24notify/opi`, prints Bitrix24's answer, and says where to look at the notification.
 */
import { CreatePersonalNotification, GetFileBlock, GetPictureBlock } from 'b24notify/opi';
import { defineCommand } from '../command.js';
import { EXIT } from '../errors.js';
import { helpFlag } from '../flags.js';
import { loadEmulator } from '../optional.js';
import { toJson } from '../output.js';
import { intInRange } from '../parse.js';
import { tryLines } from './emulator.js';

const NAME = 'demo';

/** The picture and the document of OPI's own example. */
const IMAGE =
  'https://raw.githubusercontent.com/Bayselonarrend/OpenIntegrations/main/service/test_data/picture.jpg';
const FILE = 'https://github.com/Bayselonarrend/OpenIntegrations/raw/main/service/test_data/document.docx';

export const command = defineCommand({
  meta: {
    name: NAME,
    summary: 'send the OPI example notification to an in-process emulator and print the Result',
    usage: 'demo [--keep] [--port N]',
    description: `Runs, with no portal and no credentials, what OPI's documentation shows:

  Attachments = [GetPictureBlock("Image1", Image), GetFileBlock("File1.docx", File)]
  Result = CreatePersonalNotification(URL, 1, "Message text", , Attachments)

--keep leaves the emulator running afterwards, to look at the notification or send more.`,
    examples: ['b24notify demo', 'b24notify demo --keep --port 24024'],
  },
  options: {
    keep: { type: 'boolean', description: 'keep the emulator running until Ctrl+C' },
    port: { type: 'string', valueName: 'N', description: 'port for the emulator (default: a free one)' },
    ...helpFlag,
  },
  async run({ values, io }) {
    const port = values.port === undefined ? 0 : intInRange('--port', values.port, 0, 65535, NAME);
    const emulator = await loadEmulator();
    const { startEmulator } = emulator;
    const emu = await startEmulator({ port });
    try {
      const UserID = 1;
      const Attachments = [GetPictureBlock('Image1', IMAGE), GetFileBlock('File1.docx', FILE)];
      const Result = await CreatePersonalNotification(
        emu.webhookUrl,
        UserID,
        'Message text',
        '',
        Attachments,
      );
      io.out(`Result\n${toJson(Result, true)}\n\n`);
      const id = 'result' in Result ? Result.result : undefined;
      if (typeof id !== 'number') {
        io.err('b24notify demo: the emulator refused the notification: see "error" above.\n');
        return EXIT.api;
      }
      if (!values.keep) {
        // No address: the emulator stops with this command, so any link printed would be dead.
        io.out(
          `Notification ${id} is stored in the emulator, which stops now. To look at it in the ` +
            `inbox and send more to it, run: b24notify demo --keep\n`,
        );
        return EXIT.ok;
      }
      io.out(`Notification ${id} is stored in the emulator. See it in the inbox: ${emu.url}/\n`);
      // The banner has the webhook URL and a send to paste: "send more and watch it arrive".
      io.outUnmasked(`\n${emulator.banner(emu, tryLines(emu))}\n`);
      await new Promise<void>((resolve) => {
        const off = io.onStop(() => {
          off();
          resolve();
        });
      });
      return EXIT.ok;
    } finally {
      await emu.close();
    }
  },
});
