// The one connection each host gets for a run: opened once (up front), shared by every play, and
// opened again only when a change cut it (a plan's confirm step: ConfirmContext.reconnect, adopt).
// A host an application routes (src/engine/connection/route.ts) is connected by its route.
import { UnreachableError } from '../util/errors.js';
import { unlockAhead } from '../connection/identities.js';
import { canAsk } from '../connection/passphrase.js';
import type { Connection, Via } from '../connection/types.js';
import { trace } from '../util/trace.js';
import { openConnection, sshTarget, type ConnectOptions } from '../connection/target.js';
import { directAttempt, type HostRoute, type Router } from '../connection/route.js';

type Vars = Record<string, unknown>;

export class Connections {
  private readonly open = new Map<string, Promise<Connection>>();
  private readonly settledVia = new Map<string, Via>();

  constructor(
    private readonly vars: (host: string) => Vars,
    private readonly opts: ConnectOptions,
    /** An application's routes: hosts reached other than only at their own address. */
    private readonly router?: Router,
    /** Told each time a routed host is connected to (output: how it was reached). */
    private readonly onRouted?: (host: string, via: Via, route: HostRoute) => void,
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

  /** The route `host` is reached by, if an application routes it (never a local host). */
  routeOf(host: string): HostRoute | undefined {
    return this.vars(host).ansible_connection === 'local' ? undefined : this.router?.routeOf(host);
  }

  private connect(host: string, opts = this.opts): Promise<Connection> {
    const vars = this.vars(host);
    const route = this.routeOf(host);
    const p = (async () => {
      if (!route) return openConnection(host, vars, opts);
      const t = sshTarget(host, vars, opts);
      return route.connect(t, () => directAttempt(t));
    })();
    return p.then((c) => {
      this.settledVia.set(host, c.via);
      trace(`connected ${host} (${c.via})`);
      if (route) this.onRouted?.(host, c.via, route);
      return c;
    });
  }

  /** A new login to `host` by its route's own path, leaving its connection alone (proof the path works). */
  async probe(host: string, through?: string): Promise<Connection> {
    const route = this.routeOf(host);
    if (!route)
      throw new UnreachableError(host, `${host} has no route to check: it is reached only at its own address`);
    return route.probe(sshTarget(host, this.vars(host), this.opts), through);
  }

  /** Make `conn` the host's connection (closing the one it replaces). */
  async replace(host: string, conn: Connection): Promise<void> {
    const old = await this.open.get(host)?.catch(() => undefined);
    this.open.set(host, Promise.resolve(conn));
    this.settledVia.set(host, conn.via);
    if (old && old !== conn) await old.close().catch(() => undefined);
  }

  /**
   * Reach the host again by its usual path, trying until `deadline` (ms since epoch); each login given
   * `connectTimeoutMs` when set (a module's own connect_timeout), else the run's.
   */
  async reconnect(host: string, deadline: number, pauseMs = 1000, connectTimeoutMs?: number): Promise<Connection> {
    const old = await this.open.get(host)?.catch(() => undefined);
    await old?.close().catch(() => undefined);
    const opts = connectTimeoutMs ? { ...this.opts, connectTimeoutMs } : this.opts;
    for (;;) {
      const attempt = this.connect(host, opts);
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
