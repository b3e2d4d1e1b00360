import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PortalDirectory } from '../hosting.js';
import type { Portal } from '../portal/portal.js';

/** What a control handler gets: the portal, the parsed request, and path parameters. */
export interface ControlRequest {
  portal: Portal;
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** The JSON body, or undefined for none. */
  body: unknown;
  /** The `:id` of the route, when it has one. */
  id?: string;
  /** The portal's base URL, e.g. `http://127.0.0.1:4000`. */
  baseUrl: string;
  /** Every portal of the emulator (`GET /portals`). */
  directory?: PortalDirectory;
}

/** A control handler answers a value (sent as JSON 200) or writes the response itself (undefined). */
export type ControlHandler = (r: ControlRequest) => unknown;

/** The `error` code of a control-API answer, by HTTP status; the message is its `error_description`. */
const ERROR_CODES: Readonly<Record<number, string>> = {
  400: 'BAD_REQUEST',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

/**
 * A client mistake in a control call: answered 400 (or the status given) as
 * `{"error": CODE, "error_description": message}`, the shape REST errors have too.
 */
export class ControlError extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }

  /** The stable code for the status, e.g. `NOT_FOUND`. */
  get code(): string {
    return ERROR_CODES[this.status] ?? 'BAD_REQUEST';
  }
}

/** An object body or a ControlError naming what was expected. */
export function objectBody(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ControlError('body: expected a JSON object');
  }
  return body as Record<string, unknown>;
}
