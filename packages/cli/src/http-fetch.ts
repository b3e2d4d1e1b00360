/**
 * Answers made up on this side, for `--test` (which sends nothing), and the URL of a fetch
 * input. Real requests go through the library's own `nodeFetch`.
 */

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

/** The URL of a fetch input, without naming the Request global (which would load undici). */
export function urlOf(input: Parameters<typeof fetch>[0]): string {
  if (typeof input === 'string') return input;
  if (input instanceof URL) return input.href;
  return (input as { url: string }).url;
}
