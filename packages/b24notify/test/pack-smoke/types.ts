// Pack smoke test: scripts/pack-smoke.mjs compiles this against the packed library under each
// module resolution a user may have (node16 ESM and CommonJS, bundler, node10), so the shipped
// declarations of both entry points must resolve and type these calls.
import { createClient, B24ApiError, type ClientOptions } from 'b24notify';
import { createOpi, СоздатьПерсональноеУведомление, type OpiAnswer } from 'b24notify/opi';

const options: ClientOptions = { webhookUrl: 'https://example.bitrix24.com/rest/1/code/' };
export const client = createClient(options);
export const send = (): Promise<unknown> => client.notify.personal({ userId: 1, message: 'hi' });
export const isApiError = (err: unknown): boolean => err instanceof B24ApiError;
export const opi = createOpi();
export const russian: (...args: Parameters<typeof СоздатьПерсональноеУведомление>) => Promise<OpiAnswer> =
  СоздатьПерсональноеУведомление;
