/** `b24notify delete`: im.notify.delete by id, or the application's notifications by tag or sub-tag. */
import { defineCommand } from '../command.js';
import { connect } from '../connect.js';
import { UsageError } from '../errors.js';
import { callFlags } from '../flags.js';
import { positiveInt } from '../parse.js';

const NAME = 'delete';

export const command = defineCommand({
  meta: {
    name: NAME,
    summary: "delete a notification by id, or the application's by tag or sub-tag",
    usage: 'delete (--id ID | --tag TAG | --sub-tag TAG) [--client-id ID] [options]',
    description: `Calls im.notify.delete with exactly one of ID, TAG or SUB_TAG. Tags delete only the
notifications of the calling application: through a webhook, pass the --client-id they were sent with.`,
    examples: [
      'b24notify delete --id 42',
      'b24notify delete --tag invoice-1042 --client-id billing',
      'b24notify delete --sub-tag "TASK_REMINDER|42" --client-id tasks',
    ],
  },
  options: {
    id: { type: 'string', valueName: 'ID', description: 'the notification id' },
    tag: {
      type: 'string',
      valueName: 'TAG',
      description: "delete the application's notifications with this tag",
    },
    'sub-tag': { type: 'string', valueName: 'TAG', description: '… with this sub-tag' },
    'client-id': {
      type: 'string',
      valueName: 'ID',
      description: 'the CLIENT_ID the tagged notifications were sent with',
    },
    ...callFlags,
  },
  async run({ values, io }) {
    const given = [values.id, values.tag, values['sub-tag']].filter((v) => v !== undefined);
    if (given.length !== 1) throw new UsageError('pass exactly one of --id, --tag or --sub-tag', NAME);
    const clientId = values['client-id'] !== undefined ? { clientId: values['client-id'] } : {};
    const params =
      values.id !== undefined
        ? { id: positiveInt('--id', values.id, NAME), ...clientId }
        : values.tag !== undefined
          ? { tag: values.tag, ...clientId }
          : { subTag: values['sub-tag'] as string, ...clientId };
    return connect(io, values, NAME).execute((client) => client.notify.delete(params));
  },
});
