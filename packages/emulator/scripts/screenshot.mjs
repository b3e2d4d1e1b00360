// Takes the inbox screenshot the READMEs show (docs/inbox.png): starts the built emulator, sends
// the demo's notification (OPI's CreatePersonalNotification example with a picture and a file,
// as scripts/demo.mjs does) and a realistic day of notifications with every kind of attachment
// through the library, and photographs the inbox in headless Chromium. Run after `npm run build`:
//   npm run screenshot            (at the repository root, or -w @b24notify/emulator)
// Nothing leaves this machine: pictures come from a throwaway loopback server, and the browser's
// requests for the demo's picture on GitHub are answered locally with a stand-in.
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '@b24notify/emulator';
import { attach, createClient, delimiter, file, grid, image, link, message, user } from 'b24notify';
import { CreatePersonalNotification, GetFileBlock, GetPictureBlock } from 'b24notify/opi';
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
// The demo's picture (scripts/demo.mjs), a photo on GitHub, replaced by a landscape drawn here.
const DEMO_IMAGE =
  'https://raw.githubusercontent.com/Bayselonarrend/OpenIntegrations/main/service/test_data/picture.jpg';
const DEMO_FILE =
  'https://github.com/Bayselonarrend/OpenIntegrations/raw/main/service/test_data/document.docx';
const STAND_IN = `<svg xmlns="http://www.w3.org/2000/svg" width="320" height="180" viewBox="0 0 320 180"><rect width="320" height="180" fill="#bfe6f7"/><circle cx="250" cy="48" r="22" fill="#ffd35c"/><path d="M0 150l70-70 50 45 60-75 140 100v30H0z" fill="#2f9e6e"/><path d="M0 165l90-40 80 30 70-25 80 20v30H0z" fill="#257f58"/></svg>`;
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

// First, and so lowest in the list: what `npm run demo` sends (there to user 1; here to Dmitry,
// whose inbox is photographed).
await CreatePersonalNotification(emu.webhookUrl, 5, 'Message text', '', [
  GetPictureBlock('Image1', DEMO_IMAGE),
  GetFileBlock('File1.docx', DEMO_FILE),
]);

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
  await page.route(DEMO_IMAGE, (route) =>
    route.fulfill({ status: 200, contentType: 'image/svg+xml', body: STAND_IN }),
  );
  await page.goto(`${emu.url}/#/inbox/5`);
  await page.waitForSelector('body[data-ready="true"][data-live="true"]');
  await page.waitForFunction('Array.from(document.images).every((i) => i.complete && i.naturalWidth > 0)');
  // The whole list, down to the demo's notification.
  await page.screenshot({ path: OUT, fullPage: true });
  console.log(`wrote ${OUT}`);
} finally {
  await browser.close();
  await emu.close();
  pictures.close();
}
