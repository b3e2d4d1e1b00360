/**
 * A small `fetch` over `node:http`/`node:https`, handed to the library as its `fetch` option.
 * Node's own fetch loads undici on its first call, which costs a short-lived CLI process more
 * than the request itself (about 170 ms against a few ms for `node:http`). It covers what the
 * library's transport and OAuth refresh use: a URL string, POST with a string or form body, a
 * plain header object, an abort signal, and `status`/`ok`/`text()`/`json()`/`clone()` on the
 * answer. Errors keep Node's system codes (`ECONNREFUSED`, …), which the library classifies.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** The answer, with the members of `Response` the library reads. */
class SmallResponse {
  readonly ok: boolean;
  constructor(
    readonly status: number,
    readonly statusText: string,
    /** The body, read once however often it is asked for (so `clone()` is free). */
    readonly body: Promise<string>,
  ) {
    this.ok = status >= 200 && status < 300;
  }
  text(): Promise<string> {
    return this.body;
  }
  async json(): Promise<unknown> {
    return JSON.parse(await this.body) as unknown;
  }
  clone(): SmallResponse {
    return this;
  }
}

/**
 * A `Response` from a status and a body, for answers made up on this side (`--test`). Typed as
 * `Response` because the library's `fetch` option is; it reads only the members implemented.
 */
export function smallResponse(status: number, text: string): Response {
  return new SmallResponse(status, '', Promise.resolve(text)) as unknown as Response;
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    // A connection dropped mid-answer: the body is cut off, which the library must hear about.
    const cutOff = (): void =>
      reject(Object.assign(new Error('The answer was cut off'), { code: 'ECONNRESET' }));
    res.on('aborted', cutOff);
    res.on('close', () => {
      if (!res.complete) cutOff();
    });
    res.on('error', reject);
  });
}

function headersOf(headers: RequestInit['headers']): Record<string, string> {
  if (headers === undefined) return {};
  if (Array.isArray(headers)) return Object.fromEntries(headers);
  // Duck-typed: naming the Headers global would load undici, the cost this module avoids.
  const maybe = headers as { forEach?: unknown };
  if (typeof maybe.forEach === 'function') {
    const out: Record<string, string> = {};
    (headers as Headers).forEach((value, key) => (out[key] = value));
    return out;
  }
  return { ...(headers as Record<string, string>) };
}

/** The URL of a fetch input, without naming the Request global (which would load undici). */
export function urlOf(input: Parameters<typeof fetch>[0]): string {
  if (typeof input === 'string') return input;
  if (input instanceof URL) return input.href;
  return (input as { url: string }).url;
}

/** `fetch` over `node:http`/`node:https`; see the module comment for what it supports. */
export const httpFetch: typeof fetch = (input, init) =>
  new Promise<Response>((resolve, reject) => {
    const url = new URL(urlOf(input));
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const body = init?.body === undefined || init.body === null ? undefined : String(init.body);
    const headers = headersOf(init?.headers);
    if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
    const req = send(
      url,
      { method: init?.method ?? 'GET', headers, ...(init?.signal ? { signal: init.signal } : {}) },
      (res) => {
        const text = readBody(res);
        // Read errors surface through text(); keep them from being reported as unhandled meanwhile.
        text.catch(() => undefined);
        resolve(new SmallResponse(res.statusCode ?? 0, res.statusMessage ?? '', text) as unknown as Response);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
