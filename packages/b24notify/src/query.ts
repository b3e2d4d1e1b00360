/**
 * Encode params as a PHP-style query string (`ATTACH[0][IMAGE][LINK]=…`), the form Bitrix24
 * reads in `batch` commands. A query string has no booleans, so `true`/`false` become `1`/`0`,
 * as PHP's `http_build_query` writes them.
 */
export function toQuery(params: Record<string, unknown>): string {
  const parts: string[] = [];
  const add = (key: string, value: unknown, depth: number): void => {
    if (value === undefined || value === null) return;
    if (depth > 32) throw new RangeError(`${key}: nested too deeply to encode`);
    if (typeof value === 'object' && Object.keys(value).length === 0) {
      // http_build_query would drop it, but `{ DELIMITER: {} }` is a whole ATTACH block and
      // dropping the key drops the block. An empty value keeps it; the portal reads it as empty.
      parts.push(`${encodeKey(key)}=`);
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => add(`${key}[${i}]`, v, depth + 1));
    } else if (typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) add(`${key}[${k}]`, v, depth + 1);
    } else {
      const text = typeof value === 'boolean' ? (value ? '1' : '0') : String(value);
      parts.push(`${encodeKey(key)}=${encodeValue(text)}`);
    }
  };
  for (const [k, v] of Object.entries(params)) add(k, v, 0);
  return parts.join('&');
}

/** Brackets in keys are PHP's nesting syntax and stay as they are. */
function encodeKey(key: string): string {
  return encodeURIComponent(key).replace(/%5B/gi, '[').replace(/%5D/gi, ']');
}

/**
 * `$result[key][FIELD]` references must reach the portal's batch as written, so `$`, `[` and
 * `]` stay unencoded; everything else that could end the value is encoded.
 */
function encodeValue(value: string): string {
  return encodeURIComponent(value).replace(/%24/g, '$').replace(/%5B/gi, '[').replace(/%5D/gi, ']');
}
