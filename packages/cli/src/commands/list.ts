/** `b24notify list`: im.notify.get, the calling user's notifications, newest first. */
import type { GetParams, GetResult } from 'b24notify';
import { defineCommand } from '../command.js';
import { connect } from '../connect.js';
import { UsageError } from '../errors.js';
import { callFlags } from '../flags.js';
import { intInRange, positiveInt } from '../parse.js';

const NAME = 'list';

export const command = defineCommand({
  meta: {
    name: NAME,
    summary: "list the calling user's notifications, newest first",
    usage: 'list [--limit N] [--last-id ID --last-type 1|3] [options]',
    description: `Calls im.notify.get. For the next page pass the last notification's id as --last-id
with --last-type 3 (1 for confirmations). --quiet prints the ids, one per line.`,
    examples: ['b24notify list --limit 10', 'b24notify list --last-id 120 --last-type 3 --quiet'],
  },
  options: {
    limit: { type: 'string', valueName: 'N', description: 'page size, 1 to 50 (default 50)' },
    'last-id': {
      type: 'string',
      valueName: 'ID',
      description: 'last id of the previous page, with --last-type',
    },
    'last-type': {
      type: 'string',
      valueName: '1|3',
      description: 'the stage of the previous page: 3 regular, 1 confirmations',
    },
    'convert-text': { type: 'boolean', description: 'convert BB codes in the text to HTML' },
    ...callFlags,
  },
  async run({ values, io }) {
    if ((values['last-id'] === undefined) !== (values['last-type'] === undefined)) {
      throw new UsageError(
        '--last-id and --last-type go together (--last-type 3 for regular notifications)',
        NAME,
      );
    }
    const params: GetParams = {};
    if (values.limit !== undefined) params.limit = intInRange('--limit', values.limit, 1, 50, NAME);
    if (values['last-id'] !== undefined) params.lastId = positiveInt('--last-id', values['last-id'], NAME);
    if (values['last-type'] !== undefined) {
      const type = values['last-type'].trim();
      if (type !== '1' && type !== '3') {
        throw new UsageError(`--last-type: expected 1 or 3, got "${values['last-type']}"`, NAME);
      }
      params.lastType = type === '1' ? 1 : 3;
    }
    if (values['convert-text']) params.convertText = true;
    return connect(io, values, NAME).execute(
      (client) => client.notify.get(params),
      (answer) => (answer.result as GetResult).notifications.map((n) => n.id).join('\n'),
    );
  },
});
