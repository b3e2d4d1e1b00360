/** Renewed OAuth tokens, as handed to `onTokens` for the caller to persist. */
export interface OAuthTokens {
  accessToken: string;
  refreshToken: string;
  /** Milliseconds since the epoch when the access token expires. */
  expiresAt: number;
  /** The REST base the token answer names (`client_endpoint`), when it named one. */
  clientEndpoint?: string;
}

/** How a client authenticates its calls: a webhook URL or an access token (static or refreshed). */
export interface Auth {
  /** The portal's host, for error messages and the pacing key; never a secret. */
  readonly host: string;
  /** The URL to POST `method` to. */
  url(method: string): string;
  /**
   * Fields to add to the JSON body (`auth` for tokens). Also returns an opaque value naming the
   * credential used, so a refresh can tell whether someone else already renewed it.
   */
  credentials(): Promise<{ body: Record<string, string>; used: string }>;
  /**
   * The secrets in use (webhook code, tokens, client secret), for masking in anything an error
   * keeps from a lower layer.
   */
  secrets(): string[];
  /** Renew after `expired_token`; resolves false when this auth cannot refresh. */
  refresh(used: string, signal?: AbortSignal): Promise<boolean>;
}
