/**
 * A storage node: subsystems with their namespaces, the discovery subsystem, and the NVMe/TCP
 * listeners that serve them. Every subsystem (and the discovery subsystem) is reachable on every
 * listener, as one Linux nvmet port or SPDK listener with all subsystems linked to it; port 8009
 * is only the discovery convention (NVMe/TCP 1.0, 7.4.9.1).
 */
import { isIPv6 } from 'node:net';
import pino, { type Logger } from 'pino';
import { DISCOVERY_NQN } from '../nvme/nqn.js';
import {
  type DiscoveryLogEntry,
  TransportType,
  AddressFamily,
  SubsystemType as DiscoverySubtype,
  TransportRequirements,
  TcpSecurityType,
  tcpTsas,
} from '../nvme/log-pages.js';
import { CNTLID_DYNAMIC } from '../nvme/fabrics.js';
import { createTcpListener, type TcpListener } from '../transport/tcp/tcp-listener.js';
import { Subsystem, type SubsystemOptions } from './subsystem.js';
import { Controller } from './controller.js';
import { QueuePair, type TargetContext } from './queue-pair.js';
import {
  ADMIN_IN_CAPSULE_DATA_SIZE,
  IO_IN_CAPSULE_DATA_SIZE,
  MAX_ADMIN_QUEUE_ENTRIES,
  MAX_DATA_TRANSFER,
  MAX_H2C_DATA,
} from './controller-limits.js';

export interface NvmfTargetOptions {
  logger?: Logger;
}

export interface ListenAddress {
  host: string;
  port: number;
}

interface Listener {
  portid: number;
  address: ListenAddress;
  tcp: TcpListener;
}

export class NvmfTarget implements TargetContext {
  readonly log: Logger;
  readonly startedAt = Date.now();
  /** The discovery subsystem: any host may read the discovery log (it lists what it may reach). */
  readonly discovery: Subsystem;
  private readonly subsystemMap = new Map<string, Subsystem>();
  private readonly listeners: Listener[] = [];
  private nextPortid = 1;
  private genctr = 0n;
  private closing = false;

  constructor(opts: NvmfTargetOptions = {}) {
    this.log = opts.logger ?? pino({ level: 'silent' });
    this.discovery = new Subsystem(
      { nqn: DISCOVERY_NQN, allowAnyHost: true, allowedHosts: [] },
      'discovery',
    );
  }

  // ---- subsystems --------------------------------------------------------------------------------

  get subsystems(): Subsystem[] {
    return [...this.subsystemMap.values()];
  }

  addSubsystem(opts: SubsystemOptions): Subsystem {
    if (this.subsystemMap.has(opts.nqn)) {
      throw new RangeError(`subsystem ${opts.nqn} already exists on this target`);
    }
    const sub = new Subsystem(opts);
    sub.on('hosts-changed', () => this.discoveryChanged());
    this.subsystemMap.set(sub.nqn, sub);
    this.log.info({ subnqn: sub.nqn }, 'subsystem added');
    this.discoveryChanged();
    return sub;
  }

  /** Removes a subsystem: its controllers are torn down; its bdevs stay open (the caller's). */
  removeSubsystem(nqn: string): Subsystem | undefined {
    const sub = this.subsystemMap.get(nqn);
    if (!sub) return undefined;
    this.subsystemMap.delete(nqn);
    for (const c of sub.controllers) (c as Controller).destroy('subsystem removed');
    sub.removeAllListeners();
    this.discoveryChanged();
    return sub;
  }

  findSubsystem(nqn: string): Subsystem | undefined {
    return nqn === DISCOVERY_NQN ? this.discovery : this.subsystemMap.get(nqn);
  }

  createController(
    subsystem: Subsystem,
    host: { hostnqn: string; hostid: Buffer; kato: number },
  ): Controller | undefined {
    if (this.closing) return undefined;
    const cntlid = subsystem.allocateCntlid();
    if (cntlid === undefined) return undefined;
    const ctrl = new Controller({ subsystem, cntlid, ...host, logger: this.log });
    subsystem.attach(ctrl);
    return ctrl;
  }

  // ---- discovery (NVMe-oF 1.1, 5.3) --------------------------------------------------------------

  get discoveryGenctr(): bigint {
    return this.genctr;
  }

  /**
   * The discovery log as `hostnqn` sees it: per listener, the current discovery subsystem first
   * (TP 8013, as Linux nvmet lists it), then every subsystem the host may connect to.
   */
  discoveryEntries(hostnqn: string): Partial<DiscoveryLogEntry>[] {
    const entries: Partial<DiscoveryLogEntry>[] = [];
    const visible = this.subsystems.filter((s) => s.isHostAllowed(hostnqn));
    for (const l of this.listeners) {
      const common = {
        trtype: TransportType.Tcp,
        adrfam: isIPv6(l.address.host) ? AddressFamily.Ipv6 : AddressFamily.Ipv4,
        treq: TransportRequirements.SecureNotRequired,
        portid: l.portid,
        cntlid: CNTLID_DYNAMIC,
        asqsz: MAX_ADMIN_QUEUE_ENTRIES,
        trsvcid: String(l.address.port),
        traddr: l.address.host,
        tsas: tcpTsas(TcpSecurityType.None),
      };
      entries.push({
        ...common,
        subtype: DiscoverySubtype.CurrentDiscovery,
        subnqn: DISCOVERY_NQN,
      });
      for (const s of visible)
        entries.push({ ...common, subtype: DiscoverySubtype.Nvme, subnqn: s.nqn });
    }
    return entries;
  }

  /** GENCTR moves on and every discovery controller hears of it (AER Discovery Log Page Change). */
  private discoveryChanged(): void {
    this.genctr++;
    for (const c of this.discovery.controllers) (c as Controller).discoveryLogChanged();
  }

  // ---- listeners ---------------------------------------------------------------------------------

  get addresses(): ListenAddress[] {
    return this.listeners.map((l) => ({ ...l.address }));
  }

  /** Starts an NVMe/TCP listener; port 0 picks a free port. Resolves to the bound address. */
  async listen(address: ListenAddress): Promise<ListenAddress> {
    if (this.closing) throw new Error('the target is closing');
    const portid = this.nextPortid++;
    const log = this.log.child({ portid });
    const tcp = await createTcpListener(
      {
        host: address.host,
        port: address.port,
        queue: {
          maxH2CData: MAX_H2C_DATA,
          // Which queue a connection is becomes known at Connect; until then accept the larger.
          inCapsuleDataSize: Math.max(ADMIN_IN_CAPSULE_DATA_SIZE, IO_IN_CAPSULE_DATA_SIZE),
          maxDataTransfer: MAX_DATA_TRANSFER,
        },
        logger: log,
      },
      (queue) => new QueuePair(queue, this, log).handle,
    );
    const bound = { host: address.host, port: tcp.address().port };
    this.listeners.push({ portid, address: bound, tcp });
    log.info(bound, 'listening');
    this.discoveryChanged();
    return bound;
  }

  /**
   * Stops every listener (closing every queue, so every controller goes), then flushes and
   * closes every namespace's bdev.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await Promise.all(this.listeners.map((l) => l.tcp.close()));
    this.listeners.length = 0;
    for (const sub of [this.discovery, ...this.subsystems]) {
      for (const c of sub.controllers) (c as Controller).destroy('target closing');
    }
    const bdevs = this.subsystems.flatMap((s) => s.namespaces.map((ns) => ns.bdev));
    const results = await Promise.allSettled(
      bdevs.map(async (b) => {
        await b.flush();
        await b.close();
      }),
    );
    for (const r of results) {
      if (r.status === 'rejected') this.log.error({ err: r.reason }, 'closing a bdev failed');
    }
    this.log.info('target closed');
  }
}
