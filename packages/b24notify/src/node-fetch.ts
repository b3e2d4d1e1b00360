/**
 * The default transport: a small `fetch` over `node:http` and `node:https`. Node 20's own
 * `fetch` loads undici on its first call and compiles its WebAssembly parser, which costs a
 * short-lived process far more than the request (about 150 ms against a few for `node:http`).
 * It covers what the client uses: a URL, POST with a string or form body, plain headers, an
 * abort signal, no redirects followed, and `status`/`ok`/`headers.get`/`text()`/`json()`/
 * `clone()` on the answer. Errors keep Node's system codes (`ECONNREFUSED`, …), which the transport reads
 * to tell a request that never left from one that may have been applied. Connections are kept
 * alive by Node's global agents.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';

type Send = typeof httpRequest;
let httpsRequest: Send | undefined;

/**
 * `node:https` is loaded on the first https call: it brings TLS and crypto with it, a real
 * share of a short process's start, and a call to the emulator over http needs neither.
 */
async function sender(url: URL): Promise<Send> {
  if (url.protocol !== 'https:') return httpRequest;
  httpsRequest ??= (await import('node:https')).request;
  return httpsRequest;
}

/** The members of `Response` the client reads. */
class NodeResponse {
  readonly ok: boolean;
  readonly body = null;
  readonly headers: { get(name: string): string | null };

  constructor(
    readonly status: number,
    readonly statusText: string,
    raw: IncomingMessage['headers'],
    /** The body, read once however often it is asked for. */
    private readonly bodyText: Promise<string>,
  ) {
    this.ok = status >= 200 && status < 300;
    this.headers = {
      get: (name) => {
        const value = raw[name.toLowerCase()];
        return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
      },
    };
  }

  text(): Promise<string> {
    return this.bodyText;
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.bodyText) as unknown;
  }

  /** The body is read once and kept, so a clone is the same answer (wrappers that log use it). */
  clone(): NodeResponse {
    return this;
  }
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    // A connection dropped mid-answer: the body is cut off, and the caller must hear about it.
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
  if (Array.isArray(headers)) return Object.fromEntries(headers) as Record<string, string>;
  // Duck-typed: naming the Headers global would load undici, the cost this module avoids.
  const maybe = headers as { forEach?: unknown };
  if (typeof maybe.forEach === 'function') {
    const out: Record<string, string> = {};
    (headers as Headers).forEach((value, key) => (out[key] = value));
    return out;
  }
  return { ...(headers as Record<string, string>) };
}

function urlOf(input: Parameters<typeof fetch>[0]): string {
  if (typeof input === 'string') return input;
  if (input instanceof URL) return input.href;
  return (input as { url: string }).url;
}

/**
 * `fetch` over `node:http`/`node:https`: b24notify's default. Pass your own `fetch` in the
 * client options to go through a proxy or a mock instead.
 */
export const nodeFetch: typeof fetch = async (input, init) => {
  const url = new URL(urlOf(input));
  const send = await sender(url);
  return new Promise<Response>((resolve, reject) => {
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
        resolve(
          new NodeResponse(
            res.statusCode ?? 0,
            res.statusMessage ?? '',
            res.headers,
            text,
          ) as unknown as Response,
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
};
