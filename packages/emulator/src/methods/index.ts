import imNotify from './im.notify.js';
import answer from './im.notify.answer.js';
import confirm from './im.notify.confirm.js';
import del from './im.notify.delete.js';
import get from './im.notify.get.js';
import historySearch from './im.notify.history.search.js';
import personalAdd from './im.notify.personal.add.js';
import read from './im.notify.read.js';
import readAll from './im.notify.read.all.js';
import readList from './im.notify.read.list.js';
import schemaGet from './im.notify.schema.get.js';
import systemAdd from './im.notify.system.add.js';
import profile from './profile.js';
import serverTime from './server.time.js';
import type { MethodDef } from './types.js';
import userGet from './user.get.js';

/** Every method the emulated portal answers, by its lower-case name (`batch` is the server's own). */
export const METHODS: ReadonlyMap<string, MethodDef> = new Map<string, MethodDef>([
  ['im.notify', imNotify],
  ['im.notify.personal.add', personalAdd],
  ['im.notify.system.add', systemAdd],
  ['im.notify.delete', del],
  ['im.notify.read', read],
  ['im.notify.read.list', readList],
  ['im.notify.read.all', readAll],
  ['im.notify.get', get],
  ['im.notify.history.search', historySearch],
  ['im.notify.answer', answer],
  ['im.notify.confirm', confirm],
  ['im.notify.schema.get', schemaGet],
  ['profile', profile],
  ['server.time', serverTime],
  ['user.get', userGet],
]);
