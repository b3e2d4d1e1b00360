import { CONTROL_PREFIX } from './control/router.js';
import type { RunningEmulator } from './index.js';

/**
 * What the emulator prints on start: everything a client needs, ready to paste. The
 * credentials are the emulator's own, generated for it, so they are shown in full: they open
 * nothing but this local emulator. `tryLines` replaces the closing example (a curl call).
 */
export function banner(emu: RunningEmulator, tryLines?: readonly string[]): string {
  const lines = [
    `b24notify emulator listening on ${emu.url}`,
    '',
    `Inbox:            ${emu.url}/`,
    `Webhook URL:      ${emu.webhookUrl}`,
    // With its scheme: a bare host:port means https to the library, the CLI and OPI, and the
    // emulator serves plain http unless started with --https.
    `Portal:           ${emu.url}  (--portal, B24_PORTAL, the library's portal option)`,
    `OAuth client id:  ${emu.tokens.clientId}`,
    `OAuth secret:     ${emu.tokens.clientSecret}`,
    `Access token:     ${emu.tokens.accessToken}  (user ${emu.tokens.userId}, valid until ${new Date(emu.tokens.expiresAt * 1000).toISOString()})`,
    `Refresh token:    ${emu.tokens.refreshToken}`,
    `Token endpoint:   ${emu.url}/oauth/token/  (oauth.tokenUrl, B24_TOKEN_URL)`,
    `Inspection API:   ${emu.url}${CONTROL_PREFIX}/notifications`,
  ];
  if (emu.portals.length > 1) {
    // Every portal's own address; its credentials are on its own Controls page and in
    // GET /_emulator/api/portals (codes masked there).
    lines.push('', `Portals (${emu.addressing === 'host' ? 'by Host header' : 'one port each'}):`);
    for (const p of emu.portals) lines.push(`  ${p.name.padEnd(16)}${p.webhookUrl}`);
  }
  if (emu.caCertPath) {
    lines.push(
      `CA certificate:   ${emu.caCertPath}`,
      '',
      `Trust it in Node: export NODE_EXTRA_CA_CERTS="${emu.caCertPath}"`,
      `With curl:        curl --cacert "${emu.caCertPath}" ...`,
    );
  }
  lines.push(
    '',
    'These credentials belong to this local emulator only. Try:',
    ...(tryLines ?? [
      `  curl -s -X POST -H 'content-type: application/json' -d '{"USER_ID":1,"MESSAGE":"Hello"}' \\`,
      `    ${emu.caCertPath ? `--cacert "${emu.caCertPath}" ` : ''}${emu.webhookUrl}im.notify.personal.add`,
    ]),
    '',
    'Press Ctrl+C to stop.',
  );
  return lines.join('\n');
}
