/**
 * The ATTACH parameter as Bitrix24 reads it (spec §6), in the portal's own UPPERCASE names, so
 * a value of these types can be sent as is and compared with the REST docs field by field.
 */

/** The colour schemes of an attachment or of a GRID value. The portal's default is `base`. */
export type ColorToken = 'primary' | 'secondary' | 'alert' | 'base';

/**
 * How a GRID lays out its items. One GRID uses one display for all of its items; `TABLE` may
 * be drawn as `ROW` by some clients.
 */
export type GridDisplay = 'BLOCK' | 'LINE' | 'ROW' | 'TABLE';

/** How a USER block draws its avatar. */
export type AvatarType = 'USER' | 'CHAT' | 'BOT';

/** The fields of a LINK block: a link with a title, a description and an optional preview. */
export interface LinkFields {
  /** Absolute `http(s)://` URL or a path from the portal root such as `/crm/deal/details/7/`. */
  LINK: string;
  /** The title; the portal shows LINK when it is missing. */
  NAME?: string;
  DESC?: string;
  /** Shown instead of DESC when present. */
  HTML?: string;
  /** Image URL. */
  PREVIEW?: string;
  /** Pixels. */
  WIDTH?: number;
  /** Pixels. */
  HEIGHT?: number;
  /** Opens this user's chat in the messenger instead of following LINK. */
  USER_ID?: number;
  /** Opens this chat in the messenger instead of following LINK. */
  CHAT_ID?: number;
  NETWORK_ID?: string;
}

/** The fields of a USER block: a user card. */
export interface UserFields {
  NAME: string;
  /** Image URL. */
  AVATAR?: string;
  /** Followed on click; for navigation inside the messenger prefer USER_ID, CHAT_ID or BOT_ID. */
  LINK?: string;
  USER_ID?: number;
  CHAT_ID?: number;
  BOT_ID?: number;
  NETWORK_ID?: string;
  AVATAR_TYPE?: AvatarType;
}

/** One name/value pair of a GRID block. */
export interface GridItem {
  /** The same for every item of one GRID. */
  DISPLAY: GridDisplay;
  /** In `ROW` it may be left out, and VALUE takes the whole row. */
  NAME?: string;
  /** May hold BB codes. In `ROW` it may be left out, and NAME takes the whole width. */
  VALUE?: string;
  /** Pixels. */
  WIDTH?: number;
  /** Pixels. */
  HEIGHT?: number;
  COLOR_TOKEN?: ColorToken;
  /** `#rgb` or `#rrggbb`. */
  COLOR?: string;
  LINK?: string;
  USER_ID?: number;
  CHAT_ID?: number;
}

/** One image of an IMAGE block. */
export interface ImageItem {
  LINK: string;
  NAME?: string;
  /** The portal previews LINK itself when this is missing. */
  PREVIEW?: string;
  /** Pixels. */
  WIDTH?: number;
  /** Pixels. */
  HEIGHT?: number;
}

/** One file of a FILE block. */
export interface FileItem {
  LINK: string;
  NAME?: string;
  /** Bytes; without it the file is shown without a correct size. */
  SIZE?: number;
}

/** The fields of a DELIMITER block: a horizontal line. */
export interface DelimiterFields {
  /** Width in pixels; the portal uses 200 when it is missing. */
  SIZE?: number;
  /** `#rgb` or `#rrggbb`. */
  COLOR?: string;
}

/**
 * Every block type marked absent, so that the block interfaces below can each allow only
 * their own key: a plain union would let `{ MESSAGE, IMAGE }` type-check, and the portal
 * refuses a block with two keys.
 */
interface NoBlockKeys {
  MESSAGE?: never;
  LINK?: never;
  USER?: never;
  GRID?: never;
  IMAGE?: never;
  FILE?: never;
  DELIMITER?: never;
}

/** Text with BB codes (USER, CHAT, SEND, PUT, CALL, BR, B, U, I, S, URL). */
export interface MessageBlock extends Omit<NoBlockKeys, 'MESSAGE'> {
  MESSAGE: string;
}

/** A link with a title, a description and an optional preview. */
export interface LinkBlock extends Omit<NoBlockKeys, 'LINK'> {
  LINK: LinkFields;
}

/** A user card. */
export interface UserBlock extends Omit<NoBlockKeys, 'USER'> {
  USER: UserFields;
}

/** A table of name/value pairs, all with the same DISPLAY. */
export interface GridBlock extends Omit<NoBlockKeys, 'GRID'> {
  GRID: GridItem[];
}

/** One image or several. */
export interface ImageBlock extends Omit<NoBlockKeys, 'IMAGE'> {
  IMAGE: ImageItem | ImageItem[];
}

/** One file or several. */
export interface FileBlock extends Omit<NoBlockKeys, 'FILE'> {
  FILE: FileItem | FileItem[];
}

/** A horizontal line. */
export interface DelimiterBlock extends Omit<NoBlockKeys, 'DELIMITER'> {
  DELIMITER: DelimiterFields;
}

/** One block of an attachment: an object with exactly one key, the block type. */
export type AttachBlock =
  MessageBlock | LinkBlock | UserBlock | GridBlock | ImageBlock | FileBlock | DelimiterBlock;

/** The block type names, i.e. the one key of each {@link AttachBlock}. */
export type AttachBlockType = keyof NoBlockKeys;

/** The full form of an attachment: its blocks plus an ID and a colour. */
export interface AttachObject {
  /** The attachment's identifier within the message. */
  ID?: number;
  /** The portal's default is `base`. */
  COLOR_TOKEN?: ColorToken;
  /** `#rgb` or `#rrggbb`; kept by the portal for older scenarios and some notification types. */
  COLOR?: string;
  BLOCKS: AttachBlock[];
}

/** The ATTACH parameter: the short form (a bare array of blocks) or the full form. */
export type Attach = AttachBlock[] | AttachObject;
