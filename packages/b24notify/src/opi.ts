/**
 * The OpenIntegrations (OPI) compatible layer: `CreatePersonalNotification` and its siblings
 * with OPI's names, positional parameters and answers, so code ported from OPI keeps its
 * shape. Underneath, calls are paced and retried safely, unlike OPI's five immediate retries.
 * @packageDocumentation
 */
import { isLoopback } from './auth/endpoint.js';
import { createClient, type Client, type ClientOptions } from './client.js';
import { B24ApiError } from './errors/api-error.js';
import { B24Error } from './errors/b24-error.js';
import { B24TimeoutError } from './errors/timeout-error.js';
import { B24ValidationError } from './errors/validation-error.js';

/**
 * What OPI returns: Bitrix24's parsed answer as it came, errors included. A failure with no
 * answer from the portal comes back in the same shape: `TIMEOUT` (no answer in time; it may
 * have been applied), `NETWORK_ERROR` (the request or its answer was lost), `VALIDATION_ERROR`
 * (the URL or the options were unusable; nothing was sent) or `UNEXPECTED_ERROR`.
 */
export type OpiAnswer =
  { result: unknown; time?: unknown; [key: string]: unknown } | { error: string; error_description: string };

/** An OPI attachment block. */
export type OpiBlock = Record<string, unknown>;

/** Client settings for the OPI layer (everything but the credentials, which OPI passes per call). */
export type OpiOptions = Omit<ClientOptions, 'webhookUrl' | 'portal' | 'accessToken' | 'oauth'>;

/** The OPI functions, English and Russian names. */
export interface Opi {
  /**
   * Send a personal notification (im.notify.personal.add). `URL` is a webhook URL, or the
   * portal's domain when `Token` is given. Empty optional values are left out.
   */
  CreatePersonalNotification(
    URL: string,
    UserID: string | number,
    Text: string,
    Tag?: string,
    Attachments?: OpiBlock[] | string,
    Token?: string,
  ): Promise<OpiAnswer>;
  /** Send a system notification (im.notify.system.add); parameters as CreatePersonalNotification. */
  CreateSystemNotification(
    URL: string,
    UserID: string | number,
    Text: string,
    Tag?: string,
    Attachments?: OpiBlock[] | string,
    Token?: string,
  ): Promise<OpiAnswer>;
  /** Delete a notification by id (im.notify.delete). */
  DeleteNotification(URL: string, NotificationID: string | number, Token?: string): Promise<OpiAnswer>;
  /** `{"IMAGE": {"NAME": Name, "LINK": URL}}`. */
  GetPictureBlock(Name: string, URL: string): OpiBlock;
  /** `{"FILE": {"NAME": Name, "LINK": URL}}`. */
  GetFileBlock(Name: string, URL: string): OpiBlock;
  /** Russian name of CreatePersonalNotification. */
  СоздатьПерсональноеУведомление: Opi['CreatePersonalNotification'];
  /** Russian name of CreateSystemNotification. */
  СоздатьСистемноеУведомление: Opi['CreateSystemNotification'];
  /** Russian name of DeleteNotification. */
  УдалитьУведомление: Opi['DeleteNotification'];
  /** Russian name of GetPictureBlock. */
  ПолучитьБлокКартинки: Opi['GetPictureBlock'];
  /** Russian name of GetFileBlock. */
  ПолучитьБлокФайла: Opi['GetFileBlock'];
}

/**
 * OPI's URL rule: `http://`, `https://` and `www.` are stripped and the call goes over https,
 * whether URL is a webhook or (with a token) the portal's domain. An explicit `http://` to a
 * loopback host is kept, so the emulator can be used without TLS.
 */
function httpsUrl(url: string): string {
  const trimmed = url.trim();
  const m = /^http:\/\/([^/]+)/i.exec(trimmed);
  if (m && isLoopback((m[1] as string).replace(/:\d+$/, ''))) return trimmed;
  return `https://${trimmed.replace(/^https?:\/\//i, '').replace(/^www\./i, '')}`;
}

/** The portal part of a URL given with a token: OPI takes only the domain from it. */
function portalOf(url: string): string {
  return /^https?:\/\/[^/]*/i.exec(httpsUrl(url))?.[0] ?? url;
}

/** An error as OPI hands it over: data with Bitrix24's shape, never thrown. */
function asAnswer(err: unknown): OpiAnswer {
  if (err instanceof B24ApiError) return { error: err.code, error_description: err.description };
  if (err instanceof B24TimeoutError) return { error: 'TIMEOUT', error_description: err.message };
  // Not the network's fault: a bad URL or option is the caller's to fix, and nothing was sent.
  if (err instanceof B24ValidationError) return { error: 'VALIDATION_ERROR', error_description: err.message };
  if (err instanceof B24Error) return { error: 'NETWORK_ERROR', error_description: err.message };
  return { error: 'UNEXPECTED_ERROR', error_description: err instanceof Error ? err.message : String(err) };
}

/** OPI leaves empty optional values out of the request. */
function filled(value: unknown): boolean {
  return !(
    value === undefined ||
    value === null ||
    value === '' ||
    (Array.isArray(value) && value.length === 0)
  );
}

/** Build the OPI functions over clients made with `options`; one client (one pacer) per portal. */
export function createOpi(options: OpiOptions = {}): Opi {
  const clients = new Map<string, Client>();
  function clientFor(url: string, token: string | undefined): Client {
    const key = `${token ? 'token' : 'webhook'}\u0000${url}\u0000${token ?? ''}`;
    let client = clients.get(key);
    if (!client) {
      client = token
        ? createClient({ ...options, portal: portalOf(url), accessToken: token })
        : createClient({ ...options, webhookUrl: httpsUrl(url) });
      clients.set(key, client);
    }
    return client;
  }

  async function run(
    url: string,
    token: string | undefined,
    method: string,
    params: Record<string, unknown>,
  ): Promise<OpiAnswer> {
    try {
      const answer = await clientFor(url, filled(token) ? token : undefined).call(method, params);
      return answer as OpiAnswer;
    } catch (err) {
      return asAnswer(err);
    }
  }

  function notification(method: string) {
    return (
      URL: string,
      UserID: string | number,
      Text: string,
      Tag = '',
      Attachments: OpiBlock[] | string = '',
      Token = '',
    ): Promise<OpiAnswer> => {
      const params: Record<string, unknown> = { USER_ID: UserID, MESSAGE: Text };
      if (filled(Tag)) params.TAG = Tag;
      if (filled(Attachments)) params.ATTACH = Attachments;
      return run(URL, Token, method, params);
    };
  }

  const opi = {
    CreatePersonalNotification: notification('im.notify.personal.add'),
    CreateSystemNotification: notification('im.notify.system.add'),
    DeleteNotification: (URL: string, NotificationID: string | number, Token = '') =>
      run(URL, Token, 'im.notify.delete', { ID: NotificationID }),
    GetPictureBlock: (Name: string, URL: string): OpiBlock => ({ IMAGE: { NAME: Name, LINK: URL } }),
    GetFileBlock: (Name: string, URL: string): OpiBlock => ({ FILE: { NAME: Name, LINK: URL } }),
  };
  return {
    ...opi,
    СоздатьПерсональноеУведомление: opi.CreatePersonalNotification,
    СоздатьСистемноеУведомление: opi.CreateSystemNotification,
    УдалитьУведомление: opi.DeleteNotification,
    ПолучитьБлокКартинки: opi.GetPictureBlock,
    ПолучитьБлокФайла: opi.GetFileBlock,
  };
}

const defaults = createOpi();

/** Send a personal notification, OPI style: errors come back as data. */
export const CreatePersonalNotification = defaults.CreatePersonalNotification;
/** Send a system notification, OPI style. */
export const CreateSystemNotification = defaults.CreateSystemNotification;
/** Delete a notification by id, OPI style. */
export const DeleteNotification = defaults.DeleteNotification;
/** `{"IMAGE": {"NAME": Name, "LINK": URL}}`, as OPI builds it. */
export const GetPictureBlock = defaults.GetPictureBlock;
/** `{"FILE": {"NAME": Name, "LINK": URL}}`, as OPI builds it. */
export const GetFileBlock = defaults.GetFileBlock;
/** Russian name of {@link CreatePersonalNotification}. */
export const СоздатьПерсональноеУведомление = defaults.СоздатьПерсональноеУведомление;
/** Russian name of {@link CreateSystemNotification}. */
export const СоздатьСистемноеУведомление = defaults.СоздатьСистемноеУведомление;
/** Russian name of {@link DeleteNotification}. */
export const УдалитьУведомление = defaults.УдалитьУведомление;
/** Russian name of {@link GetPictureBlock}. */
export const ПолучитьБлокКартинки = defaults.ПолучитьБлокКартинки;
/** Russian name of {@link GetFileBlock}. */
export const ПолучитьБлокФайла = defaults.ПолучитьБлокФайла;
