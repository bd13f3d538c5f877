// The one connection each host gets for a run: opened once (up front), shared by every play, and
// opened again only when a host's own tunnel was restarted under it (src/modules/relay_tunnel.ts).
import { UnreachableError } from '../util/errors.js';
import { unlockAhead } from '../connection/identities.js';
import { canAsk } from '../connection/passphrase.js';
import type { Connection, Via } from '../connection/types.js';
import { trace } from '../util/trace.js';
import { hasDirectPath, openConnection, sshTarget, type ConnectOptions } from './connect.js';
import { reachDevice, relayAttempt, connectVia, type Tunnels } from './route.js';

type Vars = Record<string, unknown>;

export class Connections {
  private readonly open = new Map<string, Promise<Connection>>();
  private readonly settledVia = new Map<string, Via>();

  constructor(
    private readonly vars: (host: string) => Vars,
    private readonly opts: ConnectOptions,
    /** Set when the inventory has a relay and devices: devices may then be reached through it. */
    readonly tunnels?: Tunnels & { isDevice(host: string): boolean },
    /** Told each time a device is connected to (output: how it was reached). */
    private readonly onDevice?: (host: string, via: Via) => void,
  ) {}

  get(host: string): Promise<Connection> {
    let c = this.open.get(host);
    if (!c) {
      c = this.connect(host);
      this.open.set(host, c);
    }
    return c;
  }

  /**
   * On a terminal: ask for the passphrases of the encrypted keys these hosts' logins will offer (no
   * agent holding them), before connecting and before progress output takes the screen.
   */
  async unlockKeys(hosts: Iterable<string>): Promise<void> {
    if (!canAsk()) return;
    const logins: { files: string[]; agent?: string }[] = [];
    for (const host of hosts) {
      const vars = this.vars(host);
      if (vars.ansible_connection === 'local') continue;
      try {
        const t = sshTarget(host, vars, { ...this.opts, note: undefined });
        for (const login of [t, ...(t.jumps ?? [])])
          logins.push({ files: login.identityFiles ?? [], agent: login.agent });
      } catch {
        /* the host's connection reports it */
      }
    }
    await unlockAhead(logins);
  }

  /** How host is reached now, once connected. */
  via(host: string): Via | undefined {
    return this.settledVia.get(host);
  }

  /** Whether host is a device reached by route (direct or through the relay). */
  routes(host: string): boolean {
    return Boolean(this.tunnels?.isDevice(host) && this.vars(host).ansible_connection !== 'local');
  }

  private connect(host: string, retry?: { via: 'relay' | 'auto' }): Promise<Connection> {
    const vars = this.vars(host);
    const tunnels = this.tunnels;
    const routed = tunnels?.isDevice(host) && vars.ansible_connection !== 'local';
    const p = (async () => {
      if (!routed) return openConnection(host, vars, this.opts);
      const t = sshTarget(host, vars, this.opts);
      return reachDevice(t, retry?.via ?? connectVia(vars), tunnels!, { hasAddress: hasDirectPath(t) });
    })();
    return p.then((c) => {
      this.settledVia.set(host, c.via);
      trace(`connected ${host} (${c.via})`);
      if (routed) this.onDevice?.(host, c.via);
      return c;
    });
  }

  /**
   * Reach `host` through its tunnel on the relay (only), once, without touching the host's current
   * connection: proof that the tunnel is up and the device behind it is the pinned one.
   */
  async probeTunnel(host: string): Promise<Connection> {
    if (!this.tunnels?.isDevice(host))
      throw new UnreachableError(host, `${host} is not a device of a relay inventory: it has no tunnel to check`);
    const tunnels = this.tunnels;
    return (async () => relayAttempt(sshTarget(host, this.vars(host), this.opts), tunnels).result)();
  }

  /** Make `conn` the host's connection (closing the one it replaces). */
  async replace(host: string, conn: Connection): Promise<void> {
    const old = await this.open.get(host)?.catch(() => undefined);
    this.open.set(host, Promise.resolve(conn));
    this.settledVia.set(host, conn.via);
    if (old && old !== conn) await old.close().catch(() => undefined);
  }

  /** Reach the host again by its usual path, trying until `deadline` (ms since epoch). */
  async reconnect(host: string, deadline: number, pauseMs = 1000): Promise<Connection> {
    const old = await this.open.get(host)?.catch(() => undefined);
    await old?.close().catch(() => undefined);
    for (;;) {
      const attempt = this.connect(host);
      this.open.set(host, attempt);
      try {
        return await attempt;
      } catch (e) {
        if (Date.now() + pauseMs >= deadline) throw e;
        await new Promise((r) => setTimeout(r, pauseMs));
      }
    }
  }

  async closeAll(): Promise<void> {
    await Promise.all(
      [...this.open.values()].map(async (p) => (await p.catch(() => undefined))?.close().catch(() => undefined)),
    );
  }
}
