import type { UserConfig } from '../config.js';
import type { Caller } from '../portal/portal.js';
import { flag, int, list, str } from './params.js';
import { Paged, defineMethod } from './types.js';

const PAGE = 50;

/** A user as user.get shows one: ID as a string, as the portal sends it. */
function userView(u: UserConfig) {
  return {
    ID: String(u.ID),
    ACTIVE: u.ACTIVE !== false,
    NAME: u.NAME,
    LAST_NAME: u.LAST_NAME ?? '',
    SECOND_NAME: '',
    EMAIL: u.EMAIL ?? '',
    WORK_POSITION: u.WORK_POSITION ?? '',
    IS_ONLINE: 'N',
    UF_DEPARTMENT: [1],
    USER_TYPE: 'employee',
  };
}

/**
 * The fields the narrower versions of the `user` scope may read, from the tables of
 * `api-reference/user/user-scope.md` (both repositories). `user` reads them all.
 */
const BRIEF_FIELDS = [
  'ID',
  'XML_ID',
  'ACTIVE',
  'NAME',
  'LAST_NAME',
  'SECOND_NAME',
  'TITLE',
  'IS_ONLINE',
  'TIME_ZONE',
  'PERSONAL_PHOTO',
  'TIMESTAMP_X',
  'DATE_REGISTER',
  'PERSONAL_PROFESSION',
  'PERSONAL_GENDER',
  'PERSONAL_BIRTHDAY',
  'PERSONAL_CITY',
  'PERSONAL_STATE',
  'PERSONAL_COUNTRY',
  'WORK_POSITION',
  'WORK_CITY',
  'WORK_STATE',
  'WORK_COUNTRY',
  'LAST_ACTIVITY_DATE',
  'UF_EMPLOYMENT_DATE',
  'UF_TIMEMAN',
  'UF_SKILLS',
  'UF_INTERESTS',
  'UF_DEPARTMENT',
  'UF_PHONE_INNER',
];
// user_basic: every user_brief field (the tables agree) plus the contact data.
const BASIC_FIELDS = [
  ...BRIEF_FIELDS,
  'EMAIL',
  'PERSONAL_PHONE',
  'WORK_PHONE',
  'WORK_COMPANY',
  'PERSONAL_FAX',
  'PERSONAL_MOBILE',
  'PERSONAL_PAGER',
  'PERSONAL_STREET',
  'PERSONAL_MAILBOX',
  'PERSONAL_ZIP',
  'PERSONAL_NOTES',
  'WORK_DEPARTMENT',
  'WORK_WWW',
  'WORK_FAX',
  'WORK_PAGER',
  'WORK_STREET',
  'WORK_MAILBOX',
  'WORK_ZIP',
  'WORK_PROFILE',
  'WORK_LOGO',
  'WORK_NOTES',
  'UF_DISTRICT',
  'UF_SKYPE',
  'UF_SKYPE_LINK',
  'UF_ZOOM',
  'UF_TWITTER',
  'UF_FACEBOOK',
  'UF_LINKEDIN',
  'UF_XING',
  'UF_WEB_SITES',
];

/** The fields a caller's scopes let it read; undefined for all of them. */
function readableFields(caller: Caller): ReadonlySet<string> | undefined {
  // A session acts with the user's own rights, which scopes do not narrow.
  if (caller.kind === 'session' || caller.scopes.includes('user')) return undefined;
  if (caller.scopes.includes('user_basic')) return new Set(BASIC_FIELDS);
  return new Set(BRIEF_FIELDS);
}

/** One filter condition: `ID`, `ACTIVE`, `NAME`, `LAST_NAME`, `EMAIL`, `NAME_SEARCH`, with `@`/`!` prefixes. */
function matches(u: UserConfig, rawKey: string, expected: unknown): boolean {
  const m = /^(!@|@|!=|!|=)?(.*)$/.exec(rawKey);
  const op = m?.[1] ?? '=';
  const key = (m?.[2] ?? rawKey).toUpperCase();
  const view = userView(u) as Record<string, unknown>;
  const values = (list(expected) ?? [expected]).map((v) => String(v).toLowerCase());
  let hit: boolean;
  if (key === 'NAME_SEARCH') {
    const hay = `${u.NAME} ${u.LAST_NAME ?? ''} ${u.EMAIL ?? ''}`.toLowerCase();
    hit = values.every((v) => hay.includes(v));
  } else if (!(key in view)) {
    // Fields the emulator does not model filter nothing out, rather than everything.
    return true;
  } else {
    const actual = view[key];
    // Boolean fields (ACTIVE) take the portal's Y/N as well as true/false and 1/0: clients
    // filter fired users out with `ACTIVE: 'Y'` as often as with `ACTIVE: true`.
    hit =
      typeof actual === 'boolean'
        ? values.some((v) => flag(v, !actual) === actual)
        : values.includes(String(actual).toLowerCase());
  }
  return op.startsWith('!') ? !hit : hit;
}

/** Lists users, 50 a page, with a FILTER (wrapped or as top-level keys) and ID order. */
export default defineMethod({
  // `api-reference/user/user-get.md` (both repositories): "Scope: user, user_brief, user_basic".
  scope: ['user', 'user_brief', 'user_basic'],
  handler(params, ctx) {
    const reserved = new Set([
      'SORT',
      'ORDER',
      'START',
      'FILTER',
      'SELECT',
      'ADMIN_MODE',
      'AUTH',
      'IMAGE_RESIZE',
    ]);
    const wrapped = params.FILTER ?? params.filter;
    const filter: Record<string, unknown> =
      wrapped && typeof wrapped === 'object' && !Array.isArray(wrapped)
        ? (wrapped as Record<string, unknown>)
        : Object.fromEntries(Object.entries(params).filter(([k]) => !reserved.has(k.toUpperCase())));
    const order = (str(params.order ?? params.ORDER) ?? 'ASC').toUpperCase() === 'DESC' ? -1 : 1;
    const start = Math.max(0, int(params.start ?? params.START) ?? 0);
    const users = ctx.portal.users
      .filter((u) => Object.entries(filter).every(([k, v]) => matches(u, k, v)))
      .sort((a, b) => (a.ID - b.ID) * order);
    const readable = readableFields(ctx.caller);
    const page = users
      .slice(start, start + PAGE)
      .map((u) =>
        readable
          ? Object.fromEntries(Object.entries(userView(u)).filter(([k]) => readable.has(k)))
          : userView(u),
      );
    const next = start + PAGE < users.length ? start + PAGE : undefined;
    return new Paged(page, users.length, next);
  },
});
