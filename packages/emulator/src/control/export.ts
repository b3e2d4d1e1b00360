import { exportFixture } from '../fixture.js';
import type { ControlRequest } from './types.js';

/**
 * GET /export — the portal's state as a fixture for `--seed` / `startEmulator({ seed })`:
 * users, webhooks and apps (codes and client secrets left out), notifications with their ids.
 */
export function getExport(r: ControlRequest) {
  return exportFixture([r.portal]);
}
