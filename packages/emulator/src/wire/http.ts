import type { IncomingMessage, ServerResponse } from 'node:http';
import { RestError } from '../errors.js';

/** Read a request body, refusing more than `limit` bytes without buffering the excess. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      reject(new RestError('ERROR_REQUEST_TOO_LARGE', `Request body over ${limit} bytes`, 413));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        chunks.length = 0;
        reject(new RestError('ERROR_REQUEST_TOO_LARGE', `Request body over ${limit} bytes`, 413));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
    });
    req.on('error', (err) => {
      if (!failed) reject(err);
    });
  });
}

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Send a JSON answer. Bitrix24 answers JSON with this content type and no cache. The headers go
 * as a flat list, which Node writes as they are: an object would be copied and every name
 * checked again on each answer, and this runs on every request (see `bench/emulator.mjs`).
 */
export function sendJson(res: ServerResponse, status: number, body: unknown): string {
  const text = JSON.stringify(body);
  if (res.destroyed) return text;
  res.writeHead(status, jsonHeaders(text));
  res.end(text);
  return text;
}

/** The headers of a JSON answer whose body is `text`, as a flat list (`writeHead`'s form). */
export function jsonHeaders(text: string): string[] {
  return [
    'content-type',
    JSON_TYPE,
    'content-length',
    String(Buffer.byteLength(text)),
    'cache-control',
    'no-store',
  ];
}

/** The error body for a RestError: `{"error": CODE, "error_description": TEXT}`. */
export function errorBody(err: RestError): { error: string; error_description: string } {
  return { error: err.code, error_description: err.description };
}
