/**
 * Who the host is on the fabric: a Host NQN and a 128-bit Host Identifier (NVMe-oF 1.1, 3.3.1 and
 * Connect data HOSTID). Linux keeps these in /etc/nvme/hostnqn and /etc/nvme/hostid; a library has
 * no such place, so one identity is generated per process and shared by every controller it
 * connects, which lets a target recognise all of this process's controllers as one host.
 */
import { randomUUID } from 'node:crypto';
import { makeHostNqn } from '../nvme/nqn.js';

export interface HostIdentity {
  hostnqn: string;
  /** 16 bytes, the UUID in network (RFC 4122) byte order, as Linux fills HOSTID. */
  hostid: Buffer;
}

const UUID_RE = /([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i;

/** The 16 bytes of a textual UUID, or undefined when `text` does not end in one. */
export function uuidBytes(text: string): Buffer | undefined {
  const m = UUID_RE.exec(text);
  return m ? Buffer.from(m.slice(1).join(''), 'hex') : undefined;
}

let processIdentity: HostIdentity | undefined;

/** This process's generated identity (created on first use). */
export function defaultHostIdentity(): HostIdentity {
  if (!processIdentity) {
    const uuid = randomUUID();
    processIdentity = { hostnqn: makeHostNqn(uuid), hostid: uuidBytes(uuid)! };
  }
  return processIdentity;
}

/**
 * The identity for a connection: the given host NQN (validated by the caller) and a Host ID taken
 * from its UUID when it is a `…:uuid:<uuid>` NQN (nvme-cli does the same), else the process's.
 */
export function resolveHostIdentity(hostnqn?: string, hostid?: string): HostIdentity {
  const fallback = defaultHostIdentity();
  const nqn = hostnqn ?? fallback.hostnqn;
  let id: Buffer | undefined;
  if (hostid !== undefined) {
    id = uuidBytes(hostid);
    if (!id) throw new RangeError(`host ID "${hostid}" is not a UUID`);
  }
  return { hostnqn: nqn, hostid: id ?? uuidBytes(nqn) ?? fallback.hostid };
}
