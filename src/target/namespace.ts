/**
 * A namespace: an NSID of a subsystem backed by one bdev, with its globally unique identifiers.
 * NGUID and UUID (NVMe Base 2.0, 4.5.2 / 5.17.2.3) must stay the same for the same storage across
 * target restarts, or a host's multipath and udev rules see a different disk: unless configured,
 * they are derived from the subsystem NQN, the NSID and the bdev's identity (a file bdev's path).
 */
import { createHash } from 'node:crypto';
import type { Bdev } from '../bdev/bdev.js';

export const NGUID_SIZE = 16;
export const UUID_SIZE = 16;
/** NSIDs 1..FFFFFFFEh name namespaces; 0 and FFFFFFFFh never do (Base 2.0, 3.2.1). */
export const NSID_MIN = 1;
/** Identify Controller NN: the largest NSID this target hands out (as Linux nvmet's 1024). */
export const MAX_NSID = 1024;

/** UUID version 5 (name based, SHA-1), RFC 9562 5.5: the version nibble and variant bits. */
const UUID_VERSION_5 = 0x50;
const UUID_VERSION_MASK = 0x0f;
const UUID_VARIANT_RFC = 0x80;
const UUID_VARIANT_MASK = 0x3f;
const UUID_VERSION_BYTE = 6;
const UUID_VARIANT_BYTE = 8;
/** Namespace UUID under which this project's names are hashed (a fixed, random UUID). */
const NVMF_DPU_UUID_NAMESPACE = Buffer.from('6f0c1d6e2f4b4a9a9a3e0c5d7b1e8a42', 'hex');

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NGUID_RE = /^[0-9a-f]{32}$/i;

export interface NamespaceOptions {
  nsid: number;
  /** 32 hex digits; derived when absent. */
  nguid?: string;
  /** 8-4-4-4-12 UUID; derived when absent. */
  uuid?: string;
  /**
   * What makes this storage the same across restarts (a file bdev's path). Defaults to the bdev
   * name; a memory bdev's data does not survive a restart, so its identifiers need not either.
   */
  identity?: string;
}

/** Hex form of a 16-byte identifier as written in configs: NGUID plain, UUID dashed. */
export const formatUuid = (b: Buffer): string => {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

export function parseNguid(text: string): Buffer {
  if (!NGUID_RE.test(text)) {
    throw new RangeError(`NGUID "${text}" is not 32 hex digits`);
  }
  return Buffer.from(text, 'hex');
}

export function parseUuid(text: string): Buffer {
  if (!UUID_RE.test(text)) {
    throw new RangeError(`UUID "${text}" is not of the form 01234567-89ab-cdef-0123-456789abcdef`);
  }
  return Buffer.from(text.replace(/-/g, ''), 'hex');
}

/** NGUID derived from (subsystem NQN, NSID, identity): the first 16 bytes of a SHA-256. */
export function deriveNguid(subnqn: string, nsid: number, identity: string): Buffer {
  return createHash('sha256')
    .update(`nguid\0${subnqn}\0${nsid}\0${identity}`)
    .digest()
    .subarray(0, NGUID_SIZE);
}

/** UUID v5 of (subsystem NQN, NSID, identity) under this project's namespace UUID. */
export function deriveUuid(subnqn: string, nsid: number, identity: string): Buffer {
  const b = createHash('sha1')
    .update(NVMF_DPU_UUID_NAMESPACE)
    .update(`${subnqn}\0${nsid}\0${identity}`)
    .digest()
    .subarray(0, UUID_SIZE);
  b[UUID_VERSION_BYTE] = (b[UUID_VERSION_BYTE] & UUID_VERSION_MASK) | UUID_VERSION_5;
  b[UUID_VARIANT_BYTE] = (b[UUID_VARIANT_BYTE] & UUID_VARIANT_MASK) | UUID_VARIANT_RFC;
  return Buffer.from(b);
}

export function checkNsid(nsid: number): void {
  if (!Number.isInteger(nsid) || nsid < NSID_MIN || nsid > MAX_NSID) {
    throw new RangeError(`NSID ${nsid} is not a namespace ID in 1..${MAX_NSID}`);
  }
}

export class Namespace {
  readonly nsid: number;
  readonly nguid: Buffer;
  readonly uuid: Buffer;
  /** The identity the identifiers were derived from (kept for the saved config). */
  readonly identity: string;

  constructor(
    readonly bdev: Bdev,
    subnqn: string,
    opts: NamespaceOptions,
  ) {
    checkNsid(opts.nsid);
    this.nsid = opts.nsid;
    this.identity = opts.identity ?? bdev.name;
    this.nguid = opts.nguid
      ? parseNguid(opts.nguid)
      : deriveNguid(subnqn, opts.nsid, this.identity);
    this.uuid = opts.uuid ? parseUuid(opts.uuid) : deriveUuid(subnqn, opts.nsid, this.identity);
  }

  get blockSize(): number {
    return this.bdev.blockSize;
  }

  get blockCount(): number {
    return this.bdev.blockCount;
  }
}
