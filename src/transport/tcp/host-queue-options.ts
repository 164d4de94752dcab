/**
 * How a host queue is configured, and the ICReq that opens its connection with what the options
 * ask for (NVMe/TCP 1.0, 3.6.2.2). Kept out of host-queue.ts, which holds the command path.
 */
import type { Logger } from 'pino';
import { MAX_PDA, PFV_1_0, encodeIcReq } from './pdu.js';

export interface HostQueueOptions {
  host: string;
  port: number;
  /** Ask for header digests (ICReq HDGST_ENABLE). */
  hdgst?: boolean;
  /** Ask for data digests (ICReq DDGST_ENABLE). */
  ddgst?: boolean;
  /** Limit for TCP connect plus the IC exchange; 0 = none. */
  connectTimeoutMs?: number;
  logger?: Logger;
  /** HPDA to ask for, 0..31 (C2HData PDO alignment of (HPDA+1)*4 bytes). */
  hpda?: number;
  /** MAXR2T to advertise, 0's based: outstanding R2Ts per command we accept. */
  maxR2T?: number;
  /** Largest C2HData data section accepted from the controller in one PDU. */
  maxC2HData?: number;
}

/** NVMe/TCP admin queue in-capsule data size (8 KiB for admin and fabrics commands, Linux NVME_TCP_ADMIN_CCSZ). */
export const ADMIN_IN_CAPSULE_DATA_SIZE = 8192;
export const DEFAULT_MAX_C2H_DATA = 64 * 1024 * 1024;

/**
 * The ICReq for `opts`. Throws RangeError for an HPDA the PDU cannot carry, before any socket
 * is opened.
 */
export function hostIcReq(opts: HostQueueOptions): Buffer {
  const hpda = opts.hpda ?? 0;
  if (!Number.isInteger(hpda) || hpda < 0 || hpda > MAX_PDA) {
    throw new RangeError(`hpda ${hpda} is not an integer from 0 to ${MAX_PDA}`);
  }
  return encodeIcReq({
    pfv: PFV_1_0,
    hpda,
    hdgst: opts.hdgst ?? false,
    ddgst: opts.ddgst ?? false,
    maxr2t: opts.maxR2T ?? 0,
  });
}
