/**
 * The emulator's inbox page: wires the three views (inbox, request log, controls) to the
 * address bar and to the one event stream. Routes: `#/inbox/5`, `#/requests`, `#/controls`.
 *
 * Test hooks, kept as plain data attributes: `body[data-live]` is `true` while the event
 * stream is connected, `body[data-ready]` once the first view has loaded, and
 * `body[data-view]` names the view on show, `body[data-portals]` counts the portals once known,
 * and `body[data-portal]` names the one shown when there are several (`#portal` picks another).
 */

import { api, listen, PORTAL } from './api.js';
import { el, must, replaceChildren } from './dom.js';
import { ControlsView } from './views/controls.js';
import { InboxView } from './views/inbox.js';
import { RequestsView } from './views/requests.js';

/** The emulator's portals and the one on show, once `GET /portals` has answered. */
let portalNames: string[] = [];
let shownPortal: string | undefined;

/** Reload the page on another portal, keeping the view and the search (`?portal=&q=`). */
function switchPortal(name: string, q: string): string | undefined {
  if (!portalNames.includes(name)) {
    return `portal:${name}: no portal named "${name}" (there ${portalNames.length ? `are ${portalNames.map((n) => `"${n}"`).join(', ')}` : 'is only this one'})`;
  }
  const next = new URL(location.href);
  next.searchParams.set('portal', name);
  next.searchParams.set('q', q);
  location.assign(next.href);
  return undefined;
}

type Route = { view: 'inbox'; user?: number } | { view: 'requests' } | { view: 'controls' };

function parseRoute(hash: string): Route {
  const [view, arg] = hash.replace(/^#\/?/, '').split('/');
  if (view === 'requests') return { view: 'requests' };
  if (view === 'controls') return { view: 'controls' };
  const user = Number(arg);
  return Number.isSafeInteger(user) && user > 0 ? { view: 'inbox', user } : { view: 'inbox' };
}

/**
 * Fill the portal selector when the emulator serves more than one portal; choosing one reloads
 * the page addressed to it (`?portal=NAME`), keeping the view. Names are set as text only.
 */
async function portalPicker(report: (err: unknown) => void): Promise<void> {
  const picker = must<HTMLElement>(document, '#portal-picker');
  const select = must<HTMLSelectElement>(document, '#portal');
  try {
    const { portals } = await api.portals();
    portalNames = portals.map((p) => p.name);
    shownPortal = portals.find((p) => p.current)?.name;
    document.body.dataset.portals = String(portals.length);
    if (portals.length < 2) return;
    for (const p of portals) {
      const option = el('option', null, `${p.name} (${p.domain})`);
      option.value = p.name;
      option.selected = p.current;
      select.append(option);
    }
    document.body.dataset.portal = portals.find((p) => p.current)?.name ?? '';
    picker.hidden = false;
    select.addEventListener('change', () => {
      const next = new URL(location.href);
      next.searchParams.set('portal', select.value);
      location.assign(next.href);
    });
  } catch (err) {
    report(err);
  }
}

function start(): void {
  const main = must<HTMLElement>(document, '#app');
  const live = must<HTMLElement>(document, '#live');
  const toast = must<HTMLElement>(document, '#toast');
  let toastTimer: ReturnType<typeof setTimeout> | undefined;
  const report = (err: unknown): void => {
    toast.textContent = err instanceof Error ? err.message : String(err);
    toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => (toast.hidden = true), 6000);
  };

  const inbox = new InboxView({
    origin: location.origin,
    report,
    navigate: (userId) => {
      location.hash = `#/inbox/${userId}`;
    },
    switchPortal,
    portalName: () => shownPortal,
  });
  const requests = new RequestsView({ report });
  const controls = new ControlsView({ report });
  let route: Route = parseRoute(location.hash);

  const show = async (): Promise<void> => {
    route = parseRoute(location.hash);
    document.body.dataset.view = route.view;
    for (const link of document.querySelectorAll<HTMLAnchorElement>('nav a')) {
      link.classList.toggle('active', link.dataset.view === route.view);
    }
    if (route.view !== 'controls') controls.hide();
    if (route.view === 'inbox') {
      replaceChildren(main, inbox.root);
      const user = route.user ?? inbox.defaultUser();
      if (user !== undefined) await inbox.select(user);
    } else if (route.view === 'requests') {
      replaceChildren(main, requests.root);
      await requests.reload();
    } else {
      replaceChildren(main, controls.root);
      await controls.load();
    }
  };
  window.addEventListener('hashchange', () => void show());

  listen({
    connected: (first) => {
      live.textContent = '● live';
      live.className = 'live on';
      document.body.dataset.live = 'true';
      // Events sent while the stream was down are lost: catch up on what is shown.
      if (!first) void inbox.loadUsers().then(() => show());
    },
    disconnected: () => {
      live.textContent = '○ reconnecting…';
      live.className = 'live off';
      document.body.dataset.live = 'false';
    },
    events: {
      notification: (n) => inbox.added(n),
      'notification-updated': (n) => inbox.updated(n),
      'notification-deleted': (d) => inbox.removed(Number(d.id)),
      request: (entry) => {
        if (route.view === 'requests') requests.added(entry);
      },
      reset: () => {
        requests.cleared();
        void inbox.loadUsers().then(() => (route.view === 'inbox' ? inbox.reload() : undefined));
      },
    },
  });

  void portalPicker(report);
  if (PORTAL !== undefined) document.title = `${PORTAL} · ${document.title}`;

  void inbox
    .loadUsers()
    .then(() => show())
    .then(() => {
      document.body.dataset.ready = 'true';
    });
}

start();
