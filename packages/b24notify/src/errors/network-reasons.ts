/**
 * What a system error code of a failed connection means, in words, and what to do about it:
 * `ECONNREFUSED` alone tells a newcomer nothing, and the two mistakes of a first hour (a bare
 * `127.0.0.1:24024`, which means https, against the plain-http emulator; the emulator's HTTPS
 * without its CA trusted) each have a one-line fix.
 */

/** A failed connection explained. */
export interface NetworkReason {
  /** What happened, naming the host. */
  reason: string;
  /** What to do. */
  hint: string;
}

const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
]);

/** Codes of an https request to a server that answered in plain http (or not in TLS at all). */
const NOT_TLS = new Set(['EPROTO', 'ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG']);

/**
 * The reason and hint for `code` on a request to `url`, or undefined for a code without one.
 * `what` names the server for the message: "the portal", "the OAuth server".
 */
export function explainNetworkCode(code: string, url: URL, what: string): NetworkReason | undefined {
  const host = url.host;
  if (code === 'ECONNREFUSED') {
    return {
      reason: `Nothing answers at ${host}: ${what} refused the connection (ECONNREFUSED)`,
      hint:
        'Check the address and port. For the b24notify emulator: is it running, and on the port its ' +
        'banner printed?',
    };
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return {
      reason: `The name ${url.hostname} does not resolve (${code})`,
      hint: 'Check the domain for typos (like example.bitrix24.com), and your network or DNS.',
    };
  }
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'ETIMEDOUT' || code === 'EADDRNOTAVAIL') {
    return {
      reason: `${host} cannot be reached (${code})`,
      hint: 'Check your network, any proxy or firewall, and the address.',
    };
  }
  if (url.protocol === 'https:' && NOT_TLS.has(code)) {
    return {
      reason: `${host} does not speak HTTPS (${code}); a domain given without a scheme is called over https://`,
      hint:
        `If it is the b24notify emulator started without --https, give the address with its scheme: ` +
        `http://${host}. Otherwise check the port.`,
    };
  }
  if (UNTRUSTED.has(code)) {
    return {
      reason: `The certificate of ${host} is not trusted (${code})`,
      hint:
        'For the b24notify emulator with --https, trust its CA: export NODE_EXTRA_CA_CERTS="<the CA ' +
        'certificate path its banner prints>". Otherwise a proxy may be intercepting HTTPS.',
    };
  }
  if (code === 'CERT_HAS_EXPIRED') {
    return {
      reason: `The certificate of ${host} has expired (${code})`,
      hint: "Check the machine's clock; otherwise the server's certificate must be renewed.",
    };
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return {
      reason: `The certificate of ${host} is for another name (${code})`,
      hint: 'Use the name the certificate is issued for (the portal domain as Bitrix24 shows it).',
    };
  }
  return undefined;
}
