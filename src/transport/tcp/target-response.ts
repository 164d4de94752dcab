/**
 * What the controller end of a connection asks of the target above it (src/target): a command
 * handler per queue, answering each command with a TargetResponse, and the limits the queue
 * enforces and announces (MAXH2CDATA, in-capsule data size, MDTS, CPDA).
 */
/** What a command handler answers; `status` is CQE bytes 14-15 as encodeCqeStatus() builds them. */
export interface TargetResponse {
  status: number;
  dw0?: number;
  dw1?: number;
  /** Controller→host data, sent as C2HData (at most the command's SGL length). */
  data?: Buffer | readonly Buffer[];
}

/**
 * Called once per command after its host→controller data arrived. Must not throw (a throw or a
 * rejection is answered with Internal Error and logged as a bug). `sqe` and `data` are views of
 * the connection's receive buffer: a handler that returns a promise may hold them until it
 * settles; one that answers at once must copy what it keeps, and answer with no view of them.
 */
export type CommandHandler = (
  sqe: Buffer,
  data: Buffer | undefined,
) => Promise<TargetResponse> | TargetResponse;

export interface TargetQueueOptions {
  /** MAXH2CDATA announced in ICResp: ≥ 4096, a multiple of 4. */
  maxH2CData: number;
  /** In-capsule data accepted (admin queue 8192; I/O queues IOCCSZ*16-64). */
  inCapsuleDataSize: number;
  /** MDTS in bytes; a longer SGL gets Data SGL Length Invalid. 0 = no limit. */
  maxDataTransfer: number;
  /** CPDA announced in ICResp (0..31): H2C PDO alignment of (CPDA+1)*4 bytes. */
  cpda?: number;
  /**
   * Largest R2TL. Default MAXH2CDATA: the spec lets an R2T be longer (the host splits it), but
   * older Linux hosts (before "nvme-tcp: send H2CData PDUs based on MAXH2CDATA", 2022) answered
   * an R2T with one H2CData PDU whatever its length, so an R2T no longer than MAXH2CDATA keeps
   * every host within the limit.
   */
  maxR2tLength?: number;
  /** Largest C2HData data section per PDU. Default 1 MiB. */
  maxC2HData?: number;
}
