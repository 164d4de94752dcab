/**
 * RemoteBdev.blockStatus: the vendor LBA allocation map (log page 0xC0, see
 * src/nvme/log-pages.ts) read from the controller and turned into block-status extents.
 */
import { type Bdev, type BlockStatusExtent, checkRange } from '../bdev/bdev.js';
import type { RemoteNamespaceHost } from './remote-namespace-host.js';
import { extentsOf } from './extents-of.js';
import { sendInChunks } from './send-in-chunks.js';
import { ALLOCATION_MAP_LOG_PAGE, getLogPageCommand } from './commands.js';

/** Log page offsets and lengths are in dwords (NVMe Base 2.0, 5.16: NUMD, LPO dword aligned). */
const DWORD = 4;
const BITS_PER_BYTE = 8;
/**
 * Most bytes one Get Log Page asks for: MDTS may be unlimited (Infinity), and a map read should
 * still come back in bounded pieces.
 */
const MAX_LOG_READ_BYTES = 1 << 20;

/** The namespace whose map is read: a bdev (range checks, names) on a controller. */
export interface AllocationMapSource extends Bdev {
  readonly nsid: number;
  readonly controller: Pick<RemoteNamespaceHost, 'maxTransferBytes' | 'adminCommand'>;
}

/**
 * Allocation map from the vendor log page 0xC0: bit i of byte j is LBA (LPO*8 + j*8 + i), 1 =
 * allocated. Reads the dword-aligned byte span covering [lba, lba+blocks), MDTS at a time.
 */
export async function readAllocationMap(
  ns: AllocationMapSource,
  lba: number,
  blocks: number,
): Promise<BlockStatusExtent[]> {
  checkRange(ns, lba, blocks);
  if (blocks === 0) return [];
  const first = Math.floor(lba / BITS_PER_BYTE / DWORD) * DWORD;
  const end = Math.ceil((lba + blocks) / BITS_PER_BYTE / DWORD) * DWORD;
  const per = Math.max(
    DWORD,
    Math.floor(Math.min(ns.controller.maxTransferBytes, MAX_LOG_READ_BYTES) / DWORD) * DWORD,
  );
  const parts = await sendInChunks(first, end - first, per, (off, length) =>
    ns.controller.adminCommand(
      getLogPageCommand({ lid: ALLOCATION_MAP_LOG_PAGE, nsid: ns.nsid, offset: off, length }),
      { readLength: length },
      `Get Log Page 0xC0 (allocation map) ${ns.name} offset ${off}`,
    ),
  );
  const bitmap = Buffer.concat(
    parts.map((c) => c.data ?? Buffer.alloc(0)),
    end - first,
  );
  return extentsOf(bitmap, lba - first * BITS_PER_BYTE, blocks);
}
