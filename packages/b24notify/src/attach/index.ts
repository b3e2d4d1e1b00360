/**
 * The public door for ATTACH: the wire types, the block builders and the validator. The rule
 * tables and checkers in `validate.ts` stay internal, shared by the builders and the validator.
 */

export type {
  Attach,
  AttachBlock,
  AttachBlockType,
  AttachObject,
  AvatarType,
  ColorToken,
  DelimiterBlock,
  DelimiterFields,
  FileBlock,
  FileItem,
  GridBlock,
  GridDisplay,
  GridItem,
  ImageBlock,
  ImageItem,
  LinkBlock,
  LinkFields,
  MessageBlock,
  UserBlock,
  UserFields,
} from './types.js';
export type {
  AttachOptions,
  DelimiterOptions,
  FileOptions,
  GridItemOptions,
  ImageOptions,
  LinkOptions,
  UserOptions,
} from './blocks.js';
export { attach, delimiter, file, grid, image, link, message, user } from './blocks.js';
export type { ValidateAttachOptions } from './validate.js';
export { ATTACH_MAX_LENGTH, validateAttach } from './validate.js';
