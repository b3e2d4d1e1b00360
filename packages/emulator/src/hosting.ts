import type { Addressing } from './config.js';
import type { Portal } from './portal/portal.js';

/** A portal as the emulator serves it: the portal and the base URL its clients use. */
export interface HostedPortal {
  readonly portal: Portal;
  /**
   * Base URL, e.g. `http://127.0.0.1:24025` (port addressing) or `http://a.localhost:24024`
   * (Host addressing); set once the listener has its port.
   */
  url: string;
}

/**
 * The portals one emulator serves, found by name (the control API's `?portal=`) or by the Host
 * header (Host addressing). With port addressing the listener decides and Host is not read.
 */
export class PortalDirectory {
  readonly #byName = new Map<string, HostedPortal>();
  readonly #byDomain = new Map<string, HostedPortal>();

  constructor(
    readonly addressing: Addressing,
    readonly hosted: readonly HostedPortal[],
  ) {
    for (const h of hosted) {
      this.#byName.set(h.portal.config.name, h);
      this.#byDomain.set(h.portal.config.domain.toLowerCase(), h);
    }
  }

  /** The portal with this name. */
  byName(name: string): HostedPortal | undefined {
    return this.#byName.get(name);
  }

  /**
   * The portal a Host header names, with Host addressing: its `domain`, or its name as the
   * first label (`a.localhost`, `a.127.0.0.1.nip.io`). Undefined when it names none, or with
   * port addressing.
   */
  byHost(host: string | undefined): HostedPortal | undefined {
    if (this.addressing !== 'host' || !host || this.hosted.length < 2) return undefined;
    const hostname = host.replace(/:\d*$/, '').toLowerCase();
    const exact = this.#byDomain.get(hostname);
    if (exact) return exact;
    const dot = hostname.indexOf('.');
    return dot > 0 ? this.#byName.get(hostname.slice(0, dot)) : undefined;
  }
}
