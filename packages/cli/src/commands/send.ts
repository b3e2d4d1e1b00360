/**
 * `b24notify send`: im.notify.personal.add, or im.notify.system.add with `--system`. ATTACH
 * comes from `--attach` (JSON or a file) and from block shorthands, in command-line order.
 */
import { file, image, link, message, type Attach, type AttachBlock } from 'b24notify';
import { defineCommand, type OptionToken } from '../command.js';
import { connect } from '../connect.js';
import { UsageError } from '../errors.js';
import { callFlags } from '../flags.js';
import { jsonArg, nameAndUrl, positiveInt } from '../parse.js';

const NAME = 'send';

/** The ATTACH shorthands, each building one block from its flag's value. */
const SHORTHANDS: Record<string, (value: string) => AttachBlock> = {
  image: (value) => {
    const { name, url } = nameAndUrl('--image', value, NAME);
    return image({ link: url, ...(name ? { name } : {}) });
  },
  file: (value) => {
    const { name, url } = nameAndUrl('--file', value, NAME);
    return file({ link: url, ...(name ? { name } : {}) });
  },
  link: (value) => {
    const { name, url } = nameAndUrl('--link', value, NAME);
    return link({ link: url, ...(name ? { name } : {}) });
  },
  message: (value) => message(value),
};

/**
 * The attachment from `--attach` plus the shorthand blocks, which are appended in the order
 * given (to `BLOCKS` when `--attach` is the full `{COLOR_TOKEN, BLOCKS}` form).
 */
function buildAttach(given: unknown, tokens: OptionToken[]): Attach | undefined {
  const blocks = tokens
    .filter((t) => t.name in SHORTHANDS && t.value !== undefined)
    .map((t) => (SHORTHANDS[t.name] as (v: string) => AttachBlock)(t.value as string));
  if (given === undefined) return blocks.length > 0 ? blocks : undefined;
  if (blocks.length === 0) return given as Attach;
  if (Array.isArray(given)) return [...(given as AttachBlock[]), ...blocks];
  if (given !== null && typeof given === 'object' && Array.isArray((given as { BLOCKS?: unknown }).BLOCKS)) {
    const full = given as { BLOCKS: AttachBlock[] };
    return { ...full, BLOCKS: [...full.BLOCKS, ...blocks] } as Attach;
  }
  throw new UsageError(
    '--attach: expected an array of blocks or {"BLOCKS": [...]} to add the shorthand blocks to',
    NAME,
  );
}

export const command = defineCommand({
  meta: {
    name: NAME,
    summary: 'send a personal notification, or with --system one with no author',
    usage: 'send --user ID --text TEXT [--tag TAG] [--attach JSON|@FILE] [--image NAME=URL] [options]',
    description: `Sends im.notify.personal.add (from the webhook's or token's user) or, with --system,
im.notify.system.add. Prints the answer: {"result": <new id>, "time": {...}}; --quiet prints the id.
A --tag makes the notification replace earlier ones with that tag, and makes a retry after a
timeout safe. Through a webhook, tags need --client-id.`,
    examples: [
      'b24notify send --user 1 --text "Deploy of [B]api[/B] finished"',
      'b24notify send --user 5 --text "Invoice paid" --tag invoice-1042 --client-id billing --quiet',
      'b24notify send --user 1 --text "Report" --image Chart=https://example.com/chart.png --file report.pdf=https://example.com/r.pdf',
      'b24notify send --system --user 1 --text "Disk almost full" --attach \'[{"MESSAGE":"92% used"}]\'',
      'b24notify send --user 1 --text - < message.txt',
    ],
  },
  options: {
    user: { type: 'string', valueName: 'ID', description: "recipient's user id (required)" },
    text: {
      type: 'string',
      valueName: 'TEXT',
      description: 'the message, BB codes allowed (required; "-" reads stdin)',
    },
    'text-out': {
      type: 'string',
      valueName: 'TEXT',
      description: 'text for e-mail and other channels (MESSAGE_OUT)',
    },
    system: { type: 'boolean', description: 'send a system notification (no author)' },
    tag: {
      type: 'string',
      valueName: 'TAG',
      description: 'uniqueness tag: replaces notifications with the same tag',
    },
    'sub-tag': { type: 'string', valueName: 'TAG', description: 'extra tag, e.g. to delete a group later' },
    'client-id': {
      type: 'string',
      valueName: 'ID',
      description: "your application's id (CLIENT_ID); needed for tags through a webhook",
    },
    attach: {
      type: 'string',
      valueName: 'JSON|@FILE',
      group: 'Attachment',
      description: 'ATTACH as inline JSON, or @file.json (a path also works)',
    },
    image: {
      type: 'string',
      multiple: true,
      valueName: 'NAME=URL',
      group: 'Attachment',
      description: 'add an IMAGE block',
    },
    file: {
      type: 'string',
      multiple: true,
      valueName: 'NAME=URL',
      group: 'Attachment',
      description: 'add a FILE block',
    },
    link: {
      type: 'string',
      multiple: true,
      valueName: 'NAME=URL',
      group: 'Attachment',
      description: 'add a LINK block',
    },
    message: {
      type: 'string',
      multiple: true,
      valueName: 'TEXT',
      group: 'Attachment',
      description: 'add a MESSAGE block (BB codes allowed)',
    },
    ...callFlags,
  },
  async run({ values, tokens, io }) {
    if (values.user === undefined) throw new UsageError("--user is required (the recipient's user id)", NAME);
    if (values.text === undefined) throw new UsageError('--text is required', NAME);
    const userId = positiveInt('--user', values.user, NAME);
    const text = values.text === '-' ? (await io.readStdin()).replace(/\r?\n$/, '') : values.text;
    if (text.trim() === '') throw new UsageError('--text: the message is empty', NAME);
    const attach = buildAttach(
      values.attach === undefined ? undefined : jsonArg('--attach', values.attach, io.cwd, NAME),
      tokens,
    );
    const session = connect(io, values, NAME);
    if (
      session.credentials.kind === 'webhook' &&
      (values.tag !== undefined || values['sub-tag'] !== undefined) &&
      values['client-id'] === undefined
    ) {
      // The docs ask for CLIENT_ID with TAG and SUB_TAG through a webhook (bitrix24/b24restdocs
      // api-reference/chats/notifications/im-notify-personal-add.md); a portal may ignore the tag
      // without it, and then neither replacing nor deleting by tag works.
      io.err(
        `b24notify send: warning: a tag through a webhook needs --client-id (your application's id, ` +
          `any stable name such as "billing"); without it the portal may ignore the tag, so it ` +
          `neither replaces earlier notifications nor can be deleted by tag.\n`,
      );
    }
    const params = {
      userId,
      message: text,
      ...(values['text-out'] !== undefined ? { messageOut: values['text-out'] } : {}),
      ...(values.tag !== undefined ? { tag: values.tag } : {}),
      ...(values['sub-tag'] !== undefined ? { subTag: values['sub-tag'] } : {}),
      ...(values['client-id'] !== undefined ? { clientId: values['client-id'] } : {}),
      ...(attach !== undefined ? { attach } : {}),
    };
    return session.execute(
      async (client) => {
        const answer = values.system
          ? await client.notify.system(params)
          : await client.notify.personal(params);
        if (answer.result === false && !values.test) {
          io.err(
            `b24notify send: the portal created no notification (result false): is user ${userId} an active user?\n`,
          );
        }
        return answer;
      },
      (answer) => String(answer.result),
      (answer) =>
        typeof answer.result === 'number'
          ? `notification ${answer.result} WAS delivered`
          : 'the portal answered (see stdout)',
    );
  },
});
