// Pack smoke test (scripts/pack-smoke.mjs runs it in a folder where only the packed outbox is
// installed): an outbox file is created and written, which needs better-sqlite3's native addon,
// built by its install script; the script is what npm asks the user to approve (README).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openOutbox } from '@b24notify/outbox';

const dir = mkdtempSync(path.join(tmpdir(), 'b24notify-outbox-smoke-'));
try {
  const outbox = openOutbox(path.join(dir, 'outbox.db'));
  const ids = outbox.add([{ kind: 'system', userId: 1, message: 'smoke' }]);
  const stats = outbox.stats();
  outbox.close();
  if (ids.length !== 1) throw new Error(`add returned ${JSON.stringify(ids)}`);
  console.log(`an outbox file was created and holds ${JSON.stringify(stats)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
