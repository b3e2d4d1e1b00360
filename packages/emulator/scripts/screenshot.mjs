// Takes the inbox screenshot the READMEs show (docs/inbox.png at the repository root): starts
// the built emulator, fills it with a realistic day of notifications through the library, and
// photographs the inbox in headless Chromium. Run after `npm run build`:
//   npm run screenshot -w @b24notify/emulator
// Pictures come from a throwaway loopback server, so nothing leaves this machine.
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '@b24notify/emulator';
import { attach, createClient, delimiter, file, grid, image, link, message, user } from 'b24notify';
import { chromium } from 'playwright-core';

const OUT = fileURLToPath(new URL('../../../docs/inbox.png', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) {
  console.error(`${CHROMIUM} is missing: run \`bash scripts/system-deps.sh\` first`);
  process.exit(1);
}

// A disk-usage chart and a deal preview, drawn as SVG.
const bars = [38, 44, 51, 57, 63, 71, 78, 86, 92]
  .map(
    (v, i) =>
      `<rect x="${12 + i * 30}" y="${130 - v * 1.2}" width="20" height="${v * 1.2}" rx="3" fill="${v > 85 ? '#ff5752' : '#2fc6f6'}"/>`,
  )
  .join('');
const PICTURES = {
  '/chart.svg': `<svg xmlns="http://www.w3.org/2000/svg" width="290" height="140" viewBox="0 0 290 140"><rect width="290" height="140" fill="#f6f8f9"/>${bars}</svg>`,
  '/deal.svg': `<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" viewBox="0 0 96 96"><rect width="96" height="96" rx="10" fill="#e8f7fd"/><path d="M22 64l16-18 12 10 22-26" stroke="#1a8fc2" stroke-width="6" fill="none" stroke-linecap="round"/></svg>`,
};
const pictures = createServer((req, res) => {
  const svg = PICTURES[req.url ?? ''];
  res.writeHead(svg ? 200 : 404, { 'content-type': 'image/svg+xml' });
  res.end(svg ?? '');
});
await new Promise((resolve) => pictures.listen(0, '127.0.0.1', resolve));
const pics = `http://127.0.0.1:${pictures.address().port}`;

const emu = await startEmulator({ portal: { plan: 'off' } });
const b24 = createClient({ webhookUrl: emu.webhookUrl, pacing: false, clientId: 'demo-app' });
const notify = b24.notify;

await notify.personal({
  userId: 2,
  message: 'Code review requested: [URL=https://git.example.com/pr/311]PR #311[/URL]',
});
await notify.personal({ userId: 3, message: 'Quarterly report is due on Friday', tag: 'REPORT_Q3' });
await notify.system({ userId: 10, message: 'Ticket [B]#5521[/B] was escalated to you' });
const { result: old } = await notify.personal({
  userId: 5,
  message: 'Daily sales report is ready',
  attach: [
    file({
      link: 'https://files.example.com/reports/sales-today.xlsx',
      name: 'sales-today.xlsx',
      size: 284_113,
    }),
  ],
});
// Read by Dmitry: im.notify.read acts for the caller (the webhook's user), so the control API does it.
await fetch(`${emu.url}/_emulator/api/notifications/${old}`, {
  method: 'PATCH',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ read: true }),
});
await notify.personal({
  userId: 5,
  message: 'New deal [URL=/crm/deal/details/42/]ACME renewal[/URL] was assigned to you by [USER=1][/USER]',
  tag: 'DEAL_42',
  subTag: 'CRM',
  attach: [
    link({
      link: '/crm/deal/details/42/',
      name: 'ACME renewal — 3 years',
      desc: 'Stage: Negotiation · Probability 70%',
      preview: `${pics}/deal.svg`,
      width: 72,
      height: 72,
    }),
    user({ name: 'Clara Smirnova', userId: 3 }),
  ],
});
await notify.system({
  userId: 5,
  message: 'Disk usage on [B]app-01[/B] is above 90%',
  tag: 'DISK_APP01',
  subTag: 'MONITORING',
  attach: attach(
    [
      grid('BLOCK', [
        { name: 'Used', value: '92%', colorToken: 'alert', width: 110 },
        { name: 'Free', value: '8 GB', width: 110 },
        { name: 'Growth', value: '+3% / day', width: 110 },
      ]),
      image({ link: `${pics}/chart.svg`, name: 'Last 9 days' }),
      delimiter({ size: 300 }),
      message(
        'See the [URL=https://status.example.com/app-01]status page[/URL] or [SEND=ack]acknowledge[/SEND]',
      ),
    ],
    { colorToken: 'alert' },
  ),
});
await notify.personal({
  userId: 5,
  message: 'Invoice [B]#1042[/B] was paid by [USER=3]Clara Smirnova[/USER]',
  tag: 'INVOICE_1042',
  subTag: 'BILLING',
  attach: attach(
    [
      grid('LINE', [
        { name: 'Amount', value: '[B]1 200.00 EUR[/B]', width: 100 },
        { name: 'Customer', value: 'ACME GmbH', link: 'https://crm.example.com/company/17', width: 100 },
        { name: 'Status', value: 'Paid', colorToken: 'primary', width: 100 },
      ]),
      file({ link: 'https://files.example.com/invoices/1042.pdf', name: 'invoice-1042.pdf', size: 48_213 }),
    ],
    { colorToken: 'primary' },
  ),
});

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: [
    '--headless=new',
    '--no-sandbox',
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
  ],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 980 } });
  await page.goto(`${emu.url}/#/inbox/5`);
  await page.waitForSelector('body[data-ready="true"][data-live="true"]');
  await page.waitForFunction('Array.from(document.images).every((i) => i.complete && i.naturalWidth > 0)');
  await page.screenshot({ path: OUT });
  console.log(`wrote ${OUT}`);
} finally {
  await browser.close();
  await emu.close();
  pictures.close();
}
