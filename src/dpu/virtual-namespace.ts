/**
 * The DPU's virtual namespace: one NVMe-oF host controller per leg (each re-connecting on its own
 * after a loss, never giving up), the legs' namespaces as RemoteBdevs, and the layout bdev over
 * them. For a mirror this also drives recovery: when a degraded leg's controller is live again,
 * `resync()` copies the regions the write-intent bitmap marked dirty while the leg was away.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import type { Bdev } from '../bdev/bdev.js';
import {
  HostController,
  formatTransportId,
  type RemoteBdev,
  type TransportId,
} from '../initiator/index.js';
import { ConcatBdev, StripeBdev, MirrorBdev } from '../volume/index.js';
import {
  DEFAULT_EXPORT_NAME,
  DEFAULT_REGION_SIZE,
  DEFAULT_STRIPE_SIZE,
  sizeInBytes,
  type DpuConfig,
  type Layout,
} from './dpu-config.js';
import { resolveLegs } from './leg-source.js';
import { ConfigError } from './schema-check.js';
import { MirrorRecovery } from './mirror-recovery.js';

/** Reconnect backoff of a leg: quick first retry, capped low so a returning node is seen soon. */
export const DEFAULT_RECONNECT_DELAY_MS = 250;
export const DEFAULT_MAX_RECONNECT_DELAY_MS = 2000;
/**
 * I/O queues per leg. The DPU runs one event loop, so a second connection to the same node buys no
 * parallelism; it only splits each tick's commands for that node over two sockets, which doubles
 * the send and receive system calls on both ends (Linux nvme-tcp opens one queue per CPU for the
 * same reason: one queue per context that submits).
 */
export const LEG_IO_QUEUES = 1;
/** Write-intent bitmap file of the volume inside --state-dir. */
export const BITMAP_FILE_SUFFIX = '.wib';

/** A leg that did not answer at start-up: a run-time failure, not a configuration mistake. */
export class LegConnectError extends Error {
  readonly code = 'ERR_NVMF_DPU_LEG_CONNECT';
}

export interface Leg {
  id: TransportId;
  uri: string;
  controller: HostController;
  bdev: RemoteBdev;
}

export interface OpenVirtualNamespaceOptions {
  logger?: Logger;
  /** Volume name; also names the bitmap file. Default the export name or `vol0`. */
  name?: string;
}

export class VirtualNamespace {
  private closing: Promise<void> | undefined;

  private constructor(
    readonly name: string,
    readonly layout: Layout,
    readonly bdev: Bdev,
    readonly legs: readonly Leg[],
    readonly mirror: MirrorBdev | undefined,
    private readonly recovery: MirrorRecovery | undefined,
    private readonly log: Logger,
  ) {}

  /** Connects every leg (all must answer) and builds the layout the config names. */
  static async open(
    cfg: DpuConfig,
    opts: OpenVirtualNamespaceOptions = {},
  ): Promise<VirtualNamespace> {
    const log = opts.logger ?? pino({ level: 'silent' });
    const name = opts.name ?? cfg.exportName ?? DEFAULT_EXPORT_NAME;
    const resolved = await resolveLegs(cfg, log);
    const layout = cfg.layout;
    checkLegCount(layout, resolved.legs.length, resolved.source);
    log.info({ source: resolved.source, legs: resolved.legs.length, layout }, 'connecting legs');

    const settled = await Promise.allSettled(
      resolved.legs.map((id) => connectLeg(id, cfg, resolved.hostnqn, log)),
    );
    const legs = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = settled.findIndex((r) => r.status === 'rejected');
    if (failed >= 0) {
      await Promise.all(legs.map((l) => l.controller.close()));
      const reason = (settled[failed] as PromiseRejectedResult).reason as Error;
      throw new LegConnectError(
        `leg ${failed + 1} (${formatTransportId(resolved.legs[failed])}) cannot be used: ${reason.message}`,
      );
    }
    for (const leg of legs) {
      log.info(
        { leg: leg.uri, blockSize: leg.bdev.blockSize, blocks: leg.bdev.blockCount },
        'leg connected',
      );
    }

    try {
      const legBdevs = legs.map((l) => l.bdev);
      let bdev: Bdev;
      let mirror: MirrorBdev | undefined;
      let recovery: MirrorRecovery | undefined;
      switch (layout) {
        case 'single':
          bdev = legBdevs[0];
          break;
        case 'concat':
          bdev = new ConcatBdev({ name, legs: legBdevs });
          break;
        case 'stripe': {
          const stripeBytes = sizeInBytes(cfg.stripeSize, DEFAULT_STRIPE_SIZE);
          bdev = new StripeBdev({
            name,
            legs: legBdevs,
            stripeBlocks: blocksIn(stripeBytes, legBdevs[0].blockSize, 'stripe size'),
          });
          break;
        }
        case 'mirror': {
          const regionBytes = sizeInBytes(cfg.regionSize, DEFAULT_REGION_SIZE);
          let bitmapPath: string | undefined;
          if (cfg.stateDir) {
            await mkdir(cfg.stateDir, { recursive: true });
            bitmapPath = join(cfg.stateDir, `${name}${BITMAP_FILE_SUFFIX}`);
          } else {
            log.info('no --state-dir: the write-intent bitmap lives in memory only');
          }
          mirror = await MirrorBdev.open({
            name,
            legs: legBdevs,
            bitmapPath,
            regionBlocks: blocksIn(regionBytes, legBdevs[0].blockSize, 'region size'),
            logger: log,
          });
          bdev = mirror;
          recovery = new MirrorRecovery(mirror, legs, log);
          break;
        }
      }
      log.info(
        { volume: name, layout, blockSize: bdev.blockSize, blocks: bdev.blockCount },
        'virtual namespace ready',
      );
      const vns = new VirtualNamespace(name, layout, bdev, legs, mirror, recovery, log);
      recovery?.start();
      return vns;
    } catch (err) {
      await Promise.all(legs.map((l) => l.controller.close()));
      if (err instanceof RangeError) throw new ConfigError(err.message);
      throw err;
    }
  }

  /** Size of the virtual namespace in bytes. */
  get size(): number {
    return this.bdev.blockCount * this.bdev.blockSize;
  }

  /** Runs a mirror resync now (no-op for other layouts); resolves to the blocks it copied. */
  async resync(): Promise<number> {
    return this.recovery ? this.recovery.resyncNow('requested') : 0;
  }

  /**
   * Flushes the volume, closes it (a mirror persists its bitmap) and disconnects every controller
   * (CC.SHN, NVMe Base 2.0, 3.6.2). Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    await this.recovery?.stop();
    try {
      await this.bdev.flush();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'flush before close failed');
    }
    try {
      if (this.bdev !== this.legs[0]?.bdev) await this.bdev.close();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'closing the volume failed');
    }
    await Promise.all(
      this.legs.map(async (leg) => {
        try {
          await leg.controller.close();
          this.log.info({ leg: leg.uri }, 'leg disconnected');
        } catch (err) {
          this.log.warn({ leg: leg.uri, err: (err as Error).message }, 'disconnect failed');
        }
      }),
    );
  }
}

function checkLegCount(layout: Layout, count: number, source: string): void {
  if (layout === 'single' && count !== 1) {
    throw new ConfigError(
      `--layout single takes one leg but ${source} gives ${count}; use concat, stripe or mirror`,
    );
  }
  if (layout === 'mirror' && count < 2) {
    throw new ConfigError(`--layout mirror needs at least two legs but ${source} gives ${count}`);
  }
}

function blocksIn(bytes: number, blockSize: number, what: string): number {
  if (bytes < blockSize || bytes % blockSize !== 0) {
    throw new ConfigError(
      `the ${what} ${bytes} bytes is not a positive multiple of the legs' ${blockSize}-byte block`,
    );
  }
  return bytes / blockSize;
}

async function connectLeg(
  id: TransportId,
  cfg: DpuConfig,
  hostnqn: string | undefined,
  log: Logger,
): Promise<Leg> {
  const controller = await HostController.connect({
    traddr: id.traddr,
    trsvcid: id.trsvcid,
    subnqn: id.subnqn!,
    hostnqn: id.hostnqn ?? hostnqn,
    reconnectDelayMs: cfg.reconnectDelayMs ?? DEFAULT_RECONNECT_DELAY_MS,
    maxReconnectDelayMs: cfg.maxReconnectDelayMs ?? DEFAULT_MAX_RECONNECT_DELAY_MS,
    // A DPU never gives a leg up: a storage node that comes back is reconnected and resynced.
    ctrlLossTimeoutMs: Infinity,
    nrIoQueues: LEG_IO_QUEUES,
    logger: log,
  });
  try {
    const nsid = id.nsid ?? controller.namespaces()[0];
    if (nsid === undefined) throw new RangeError(`${id.subnqn} has no active namespace`);
    return { id, uri: formatTransportId(id), controller, bdev: controller.namespace(nsid) };
  } catch (err) {
    await controller.close();
    throw err;
  }
}
