/**
 * The contract: `openapi.json` is valid OpenAPI 3.1 (checked by @apidevtools/swagger-parser,
 * not by us), served at `/_emulator/api/openapi.json`, lists exactly the routes the control
 * router serves, covers every call of the inbox page and of the test matchers
 * (`src/testing.ts`), and every operation in it is called here, answering a status it documents.
 */
import { readFileSync } from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { controlRoutes } from '../src/control/router.js';
import { startTestPortal, type Answer, type TestPortal } from './support/emulator.js';

interface Operation {
  responses: Record<string, unknown>;
  parameters?: { name: string; in: string }[];
}
type Doc = { openapi: string; paths: Record<string, Record<string, Operation | unknown>> };

const VERBS = ['get', 'put', 'post', 'patch', 'delete'];
const doc = JSON.parse(readFileSync(new URL('../openapi.json', import.meta.url), 'utf8')) as Doc;

/** `GET /notifications/{id}` for every operation of the document. */
function documented(): string[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((k) => VERBS.includes(k))
      .map((verb) => `${verb.toUpperCase()} ${path}`),
  );
}

let p: TestPortal;
beforeAll(async () => {
  p = await startTestPortal('http');
});
afterAll(() => p.close());

describe('openapi.json', () => {
  test('is valid OpenAPI 3.1', async () => {
    expect(doc.openapi).toBe('3.1.0');
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeTruthy();
  });

  test('is served by the emulator', async () => {
    const a = await p.control('GET', '/openapi.json');
    expect(a.status).toBe(200);
    expect(a.json).toEqual(doc);
  });

  test('the inbox page calls only operations it documents', () => {
    const source = readFileSync(new URL('../ui/api.ts', import.meta.url), 'utf8');
    const calls = [...source.matchAll(/call<.*?>\(\s*'(GET|PUT|POST|PATCH|DELETE)',\s*([`'])(.*?)\2/gs)].map(
      (m) =>
        `${m[1]} ${(m[3] as string).replace(/\$\{query\(.*\)\}$/, '').replace(/\/\$\{[^}]+\}/g, '/{id}')}`,
    );
    expect(calls.length).toBeGreaterThan(10);
    expect(source).toContain("addressed('/events')");
    for (const call of [...calls, 'GET /events']) expect(documented()).toContain(call);
  });

  test('the test matchers make only documented requests, with documented parameters and answers', () => {
    const source = readFileSync(new URL('../src/testing.ts', import.meta.url), 'utf8');
    // The matchers read no Portal: nothing but the filter language and the wait error's type.
    const imports = [...source.matchAll(/from '(\.[^']+)'/g)].map((m) => m[1]);
    expect(new Set(imports)).toEqual(new Set(['./search.js', './wait.js']));
    expect(source).not.toMatch(/\.store\b|\.log\.list|\bPortal\b/);
    // One transport, GET only; every request goes through getOk(api, `/path${query({…})}`, ok).
    expect([...source.matchAll(/method: '(\w+)'/g)].map((m) => m[1])).toEqual(['GET']);
    expect([...source.matchAll(/\bget\(api, /g)]).toHaveLength(1);
    const calls = [
      ...source.matchAll(/getOk\(api, `(\/[^`$]*)\$\{query\(\{([^}]*)\}\)\}`(?:, \[([\d, ]+)\])?\)/g),
    ];
    expect(calls.length).toBe([...source.matchAll(/getOk\(api, /g)].length);
    expect(calls.length).toBeGreaterThanOrEqual(5);
    for (const [, path, params, ok] of calls) {
      const key = `GET ${path as string}`;
      expect(documented()).toContain(key);
      const operation = doc.paths[path as string]?.get as Operation;
      const names = (params as string).split(',').map((p) => p.split(':')[0]?.trim());
      const documentedNames = (operation.parameters ?? []).map((p) => p.name);
      for (const name of names) expect(documentedNames, key).toContain(name);
      for (const status of (ok ?? '200').split(',')) {
        expect(Object.keys(operation.responses), key).toContain(status.trim());
      }
    }
  });

  test('documents exactly the routes the control router serves', () => {
    const served = controlRoutes().flatMap(({ path, methods }) =>
      methods.map((m) => `${m} ${path.replace(/:(\w+)/g, '{$1}')}`),
    );
    expect([...served].sort()).toEqual(documented().sort());
  });
});

describe('the portal settings schema', () => {
  interface Property {
    type?: string;
    enum?: string[];
    readOnly?: boolean;
    minimum?: number;
  }
  const schemas = (
    doc as unknown as { components: { schemas: Record<string, { properties: Record<string, Property> }> } }
  ).components.schemas;
  const settings = schemas['PortalSettings']?.properties ?? {};
  const portal = schemas['Portal']?.properties ?? {};
  afterAll(() => p.control('POST', '/reset', {}));

  test('GET /portal answers exactly the documented fields; the writable ones are the settings', async () => {
    const a = await p.control('GET', '/portal');
    expect(Object.keys(a.body).sort()).toEqual(Object.keys(portal).sort());
    const writable = Object.keys(portal).filter((k) => !portal[k]?.readOnly);
    expect(writable.sort()).toEqual(Object.keys(settings).sort());
  });

  test('PUT /portal takes every documented setting with its current value, and each documented choice', async () => {
    const current = (await p.control('GET', '/portal')).body;
    for (const key of Object.keys(settings)) {
      const a = await p.control('PUT', '/portal', { [key]: current[key] });
      expect(a.status, `${key}: ${a.text}`).toBe(200);
    }
    for (const [key, property] of Object.entries(settings)) {
      for (const choice of property.enum ?? []) {
        const a = await p.control('PUT', '/portal', { [key]: choice });
        expect(a.status, `${key}=${choice}: ${a.text}`).toBe(200);
        expect(a.body[key]).toBe(choice);
      }
      if (property.enum) {
        const refused = await p.control('PUT', '/portal', { [key]: 'not-a-choice' });
        expect(refused.status, key).toBe(400);
        // The error lists exactly the documented choices.
        const listed = [...String(refused.body.error_description).matchAll(/"([^"]+)"/g)].map((m) => m[1]);
        expect(listed, key).toEqual(property.enum);
      }
      await p.control('PUT', '/portal', { [key]: current[key] });
    }
  });

  test('PUT /portal refuses what the schema does not document', async () => {
    const a = await p.control('PUT', '/portal', { timezone: '+00:00' });
    expect(a.status).toBe(400);
    expect(a.body.error_description).toBe('timezone: not a portal setting');
  });
});

describe('every documented operation, called', () => {
  let id = 0;
  beforeAll(async () => {
    const a = await p.hook('im.notify.personal.add', { USER_ID: 1, MESSAGE: 'Contract', TAG: 'contract' });
    id = a.body.result as number;
  });

  const events = async (): Promise<Answer> => {
    const controller = new AbortController();
    const res = await fetch(`${p.emu.url}/_emulator/api/events`, { signal: controller.signal });
    controller.abort();
    return { status: res.status, headers: {}, text: '', json: undefined, body: {} };
  };

  /** One call per operation; the keys must be every operation of the document. */
  const CALLS: Record<string, () => Promise<Answer>> = {
    'GET /notifications': () => p.control('GET', '/notifications?q=tag:contract'),
    'GET /notifications/wait': () => p.control('GET', '/notifications/wait?q=tag:contract&timeout=60000'),
    'GET /notifications/{id}': () => p.control('GET', `/notifications/${id}`),
    'PATCH /notifications/{id}': () => p.control('PATCH', `/notifications/${id}`, { read: true }),
    'DELETE /notifications/{id}': () => p.control('DELETE', '/notifications/999999'),
    'GET /users': () => p.control('GET', '/users'),
    'GET /requests': () => p.control('GET', '/requests?limit=5'),
    'GET /requests/{id}': () => p.control('GET', '/requests/1'),
    'GET /clock': () => p.control('GET', '/clock'),
    'PUT /clock': () => p.control('PUT', '/clock', { advanceMs: 0 }),
    'GET /chaos': () => p.control('GET', '/chaos'),
    'PUT /chaos': () => p.control('PUT', '/chaos', { rules: [] }),
    'GET /limits': () => p.control('GET', '/limits'),
    'PUT /limits': () => p.control('PUT', '/limits', { plan: 'off' }),
    'GET /portal': () => p.control('GET', '/portal'),
    'PUT /portal': () => p.control('PUT', '/portal', { requireHttps: false }),
    'POST /reset': () => p.control('POST', '/reset', {}),
    'POST /tokens': () => p.control('POST', '/tokens', {}),
    'POST /sessions': () => p.control('POST', '/sessions', { userId: 1 }),
    'GET /events': events,
    'GET /portals': () => p.control('GET', '/portals'),
    'GET /export': () => p.control('GET', '/export'),
    'GET /openapi.json': () => p.control('GET', '/openapi.json'),
  };

  test('the table covers the document', () => {
    expect(Object.keys(CALLS).sort()).toEqual(documented().sort());
  });

  test.each(Object.keys(CALLS))('%s answers a status it documents', async (key) => {
    const [verb, path] = key.split(' ') as [string, string];
    const operation = doc.paths[path]?.[verb.toLowerCase()] as Operation;
    const a = await (CALLS[key] as () => Promise<Answer>)();
    expect(Object.keys(operation.responses), `${key} answered ${a.status}: ${a.text}`).toContain(
      String(a.status),
    );
    if (key !== 'DELETE /notifications/{id}') expect(a.status, a.text).toBe(200);
  });
});
