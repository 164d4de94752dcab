/**
 * An NVM subsystem (NVMe Base 2.0, 1.5 / NVMe-oF 1.1, 1.5.5): an NQN, identity strings, the hosts
 * allowed to connect, its namespaces and the controllers hosts have created on it (dynamic
 * controller model: every admin Connect makes a new controller with a fresh CNTLID).
 * The discovery subsystem is a Subsystem of type 'discovery' with no namespaces.
 */
import { EventEmitter } from 'node:events';
import { createHash } from 'node:crypto';
import type { Bdev } from '../bdev/bdev.js';
import { assertNqn, DISCOVERY_NQN } from '../nvme/nqn.js';
import { CNTLID_MIN, CNTLID_MAX } from '../nvme/fabrics.js';
import { Namespace, MAX_NSID, NSID_MIN, type NamespaceOptions } from './namespace.js';

export const SERIAL_SIZE = 20; // Identify Controller SN, ASCII
export const MODEL_SIZE = 40; // Identify Controller MN, ASCII
export const DEFAULT_MODEL = 'nvmf-dpu';
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

export type SubsystemType = 'nvme' | 'discovery';

export interface SubsystemOptions {
  nqn: string;
  /** Identify Controller SN, up to 20 printable ASCII characters; derived from the NQN if absent. */
  serial?: string;
  /** Identify Controller MN, up to 40 printable ASCII characters. */
  model?: string;
  allowAnyHost: boolean;
  allowedHosts: readonly string[];
}

/** What a subsystem needs of a controller: its identity and the events it reports to its host. */
export interface AttachedController {
  readonly cntlid: number;
  readonly hostnqn: string;
  namespacesChanged(nsids: readonly number[]): void;
}

/** A serial number stable for an NQN: 20 upper-case hex digits of its SHA-256. */
const serialFor = (nqn: string): string =>
  createHash('sha256').update(nqn).digest('hex').slice(0, SERIAL_SIZE).toUpperCase();

function checkAscii(value: string, size: number, what: string): void {
  if (value.length > size || !PRINTABLE_ASCII.test(value)) {
    throw new RangeError(`${what} "${value}" must be at most ${size} printable ASCII characters`);
  }
}

export interface SubsystemEvents {
  /** Namespaces were added or removed. */
  'namespaces-changed': [nsids: number[]];
  /** The set of hosts allowed to connect changed (the discovery log changes with it). */
  'hosts-changed': [];
}

export class Subsystem extends EventEmitter<SubsystemEvents> {
  readonly nqn: string;
  readonly serial: string;
  readonly model: string;
  readonly type: SubsystemType;
  private anyHost: boolean;
  private readonly hosts = new Set<string>();
  private readonly nsMap = new Map<number, Namespace>();
  private readonly ctrlMap = new Map<number, AttachedController>();
  private nextCntlid = CNTLID_MIN;

  constructor(opts: SubsystemOptions, type: SubsystemType = 'nvme') {
    super();
    assertNqn(opts.nqn, 'subsystem NQN');
    if (type === 'nvme' && opts.nqn === DISCOVERY_NQN) {
      throw new RangeError(
        `subsystem NQN "${opts.nqn}" is the discovery NQN, which no storage subsystem may use`,
      );
    }
    this.nqn = opts.nqn;
    this.type = type;
    this.serial = opts.serial ?? serialFor(opts.nqn);
    this.model = opts.model ?? DEFAULT_MODEL;
    checkAscii(this.serial, SERIAL_SIZE, 'serial number');
    checkAscii(this.model, MODEL_SIZE, 'model number');
    this.anyHost = opts.allowAnyHost;
    for (const h of opts.allowedHosts) this.addHost(h);
  }

  get allowAnyHost(): boolean {
    return this.anyHost;
  }

  get allowedHosts(): string[] {
    return [...this.hosts];
  }

  /** True when `hostnqn` may connect (Connect Invalid Host otherwise, NVMe-oF 1.1, 3.3). */
  isHostAllowed(hostnqn: string): boolean {
    return this.anyHost || this.hosts.has(hostnqn);
  }

  addHost(hostnqn: string): void {
    assertNqn(hostnqn, 'host NQN');
    if (this.hosts.has(hostnqn)) return;
    this.hosts.add(hostnqn);
    this.emit('hosts-changed');
  }

  removeHost(hostnqn: string): void {
    if (this.hosts.delete(hostnqn)) this.emit('hosts-changed');
  }

  setAllowAnyHost(any: boolean): void {
    if (any === this.anyHost) return;
    this.anyHost = any;
    this.emit('hosts-changed');
  }

  // ---- namespaces ------------------------------------------------------------------------------

  /** Active namespaces in NSID order. */
  get namespaces(): Namespace[] {
    return [...this.nsMap.values()].sort((a, b) => a.nsid - b.nsid);
  }

  namespace(nsid: number): Namespace | undefined {
    return this.nsMap.get(nsid);
  }

  /**
   * Adds a namespace on `bdev` at `opts.nsid` (the lowest free NSID when absent) and tells every
   * controller (Namespace Attribute Changed, NVMe Base 2.0, 5.2.1).
   */
  addNamespace(bdev: Bdev, opts: Partial<NamespaceOptions> = {}): Namespace {
    if (this.type === 'discovery') {
      throw new RangeError('the discovery subsystem has no namespaces');
    }
    const nsid = opts.nsid ?? this.freeNsid();
    if (this.nsMap.has(nsid)) {
      throw new RangeError(`NSID ${nsid} is already in use in ${this.nqn}`);
    }
    const ns = new Namespace(bdev, this.nqn, { ...opts, nsid });
    this.nsMap.set(nsid, ns);
    this.changed([nsid]);
    return ns;
  }

  /** Removes a namespace; the caller owns (and closes) its bdev. */
  removeNamespace(nsid: number): Namespace | undefined {
    const ns = this.nsMap.get(nsid);
    if (!ns) return undefined;
    this.nsMap.delete(nsid);
    this.changed([nsid]);
    return ns;
  }

  private freeNsid(): number {
    for (let nsid = NSID_MIN; nsid <= MAX_NSID; nsid++) if (!this.nsMap.has(nsid)) return nsid;
    throw new RangeError(`${this.nqn} already has ${MAX_NSID} namespaces`);
  }

  private changed(nsids: number[]): void {
    for (const c of this.ctrlMap.values()) c.namespacesChanged(nsids);
    this.emit('namespaces-changed', nsids);
  }

  // ---- controllers -----------------------------------------------------------------------------

  get controllers(): AttachedController[] {
    return [...this.ctrlMap.values()];
  }

  controller(cntlid: number): AttachedController | undefined {
    return this.ctrlMap.get(cntlid);
  }

  /**
   * A free CNTLID in 1..FFEFh, handed out round-robin so a just-freed ID is not reused at once
   * (a host still holding the old association would otherwise join the new one). undefined when
   * all are taken.
   */
  allocateCntlid(): number | undefined {
    const span = CNTLID_MAX - CNTLID_MIN + 1;
    for (let i = 0; i < span; i++) {
      const id = this.nextCntlid;
      this.nextCntlid = id >= CNTLID_MAX ? CNTLID_MIN : id + 1;
      if (!this.ctrlMap.has(id)) return id;
    }
    return undefined;
  }

  attach(ctrl: AttachedController): void {
    this.ctrlMap.set(ctrl.cntlid, ctrl);
  }

  detach(ctrl: AttachedController): void {
    if (this.ctrlMap.get(ctrl.cntlid) === ctrl) this.ctrlMap.delete(ctrl.cntlid);
  }
}
