import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ControlRequest } from './types.js';

/**
 * Where `openapi.json` (the package root's) is: one level up from the bundle in `dist/`, two
 * from this file in `src/control/` (tests run the source).
 */
const CANDIDATES = ['../openapi.json', '../../openapi.json'];

let cached: unknown;

/** The OpenAPI 3.1 document of the control API, as shipped with the package. */
export function openApiDocument(): unknown {
  if (cached === undefined) {
    const path = CANDIDATES.map((c) => fileURLToPath(new URL(c, import.meta.url))).find((p) => existsSync(p));
    if (!path) throw new Error('openapi.json is missing from the package');
    cached = JSON.parse(readFileSync(path, 'utf8'));
  }
  return cached;
}

/** GET /openapi.json — the control API's contract, the one the inbox page and helpers keep to. */
export function getOpenApi(_r: ControlRequest) {
  return openApiDocument();
}
