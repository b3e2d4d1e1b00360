/** `b24notify read`: im.notify.read, im.notify.read.list (`--ids`) and im.notify.read.all (`--all`). */
import { defineCommand } from '../command.js';
import { connect } from '../connect.js';
import { UsageError } from '../errors.js';
import { callFlags } from '../flags.js';
import { idList, positiveInt } from '../parse.js';

const NAME = 'read';

export const command = defineCommand({
  meta: {
    name: NAME,
    summary: 'mark notifications read (or unread)',
    usage: 'read (--id ID [--only-current] | --ids ID,ID,... | --all) [--unread] [options]',
    description: `--id marks that notification and every later one (im.notify.read), or only it with
--only-current; --ids marks the listed ones (im.notify.read.list); --all marks all of the calling
user's notifications read (im.notify.read.all). --unread marks unread instead (not with --all).`,
    examples: [
      'b24notify read --id 42 --only-current',
      'b24notify read --ids 40,41,42 --unread',
      'b24notify read --all',
    ],
  },
  options: {
    id: { type: 'string', valueName: 'ID', description: 'from this notification on (im.notify.read)' },
    'only-current': { type: 'boolean', description: 'with --id: only that notification' },
    ids: { type: 'string', valueName: 'ID,ID,...', description: 'these notifications (im.notify.read.list)' },
    all: { type: 'boolean', description: 'all notifications (im.notify.read.all)' },
    unread: { type: 'boolean', description: 'mark unread instead of read' },
    ...callFlags,
  },
  async run({ values, io }) {
    const chosen = [values.id !== undefined, values.ids !== undefined, values.all === true].filter(Boolean);
    if (chosen.length !== 1) throw new UsageError('pass exactly one of --id, --ids or --all', NAME);
    if (values['only-current'] && values.id === undefined) {
      throw new UsageError('--only-current goes with --id', NAME);
    }
    if (values.all && values.unread) throw new UsageError('--unread cannot go with --all', NAME);
    const read = values.unread !== true;
    if (values.all) return connect(io, values, NAME).execute((client) => client.notify.readAll());
    if (values.ids !== undefined) {
      const ids = idList('--ids', values.ids, NAME);
      return connect(io, values, NAME).execute((client) => client.notify.readList({ ids, read }));
    }
    const id = positiveInt('--id', values.id as string, NAME);
    const onlyCurrent = values['only-current'] === true;
    return connect(io, values, NAME).execute((client) => client.notify.read({ id, read, onlyCurrent }));
  },
});
