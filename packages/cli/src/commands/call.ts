/** `b24notify call METHOD`: any REST method, with Bitrix24's own parameter names. */
import { defineCommand } from '../command.js';
import { connect } from '../connect.js';
import { UsageError } from '../errors.js';
import { callFlags } from '../flags.js';
import { jsonArg } from '../parse.js';

const NAME = 'call';

export const command = defineCommand({
  meta: {
    name: NAME,
    summary: 'call any REST method with JSON parameters',
    usage: 'call METHOD [--params JSON|@FILE] [options]',
    description: `Sends METHOD with the parameters as given (Bitrix24's names, e.g. USER_ID) and prints
the answer. Calls are paced and retried like the other commands; a call that may have been applied
(a timeout, a dropped connection) is not repeated, as b24notify cannot know it is safe.`,
    examples: [
      'b24notify call im.notify.personal.add --params \'{"USER_ID":1,"MESSAGE":"Hi"}\'',
      'b24notify call im.notify.schema.get',
      'b24notify call user.get --params @filter.json',
    ],
  },
  positionals: true,
  options: {
    params: {
      type: 'string',
      valueName: 'JSON|@FILE',
      description: 'parameters as a JSON object, or @file.json',
    },
    ...callFlags,
  },
  async run({ values, positionals, io }) {
    const [method, ...extra] = positionals;
    if (method === undefined)
      throw new UsageError('name the method, e.g. b24notify call im.notify.get', NAME);
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`, NAME);
    if (!/^[a-z0-9_.]+$/i.test(method)) {
      throw new UsageError(`"${method}" is not a method name (letters, digits, "." and "_")`, NAME);
    }
    const params = values.params === undefined ? {} : jsonArg('--params', values.params, io.cwd, NAME);
    if (params === null || typeof params !== 'object' || Array.isArray(params)) {
      throw new UsageError('--params: expected a JSON object, like {"USER_ID": 1}', NAME);
    }
    return connect(io, values, NAME).execute((client) =>
      client.call(method, params as Record<string, unknown>),
    );
  },
});
