import { describe, expect, it } from 'vitest';
import { NullBdev } from '../../../src/bdev/null-bdev.js';
import { firstDifference, patternBlocks } from '../../support/pattern.js';

describe('NullBdev', () => {
  it('discards writes and reads zeroes, all holes', async () => {
    const b = new NullBdev({ name: 'n0', blockSize: 4096, blockCount: 1 << 20 });
    await b.write(10, patternBlocks(10, 4, 4096));
    expect(firstDifference(await b.read(10, 4), Buffer.alloc(4 * 4096))).toBeUndefined();
    expect(await b.blockStatus(0, 1 << 20)).toEqual([{ state: 'hole', blocks: 1 << 20 }]);
    expect(b.stats.writeOps).toBe(1);
    expect(b.stats.readBytes).toBe(4 * 4096);
    await expect(b.read(1 << 20, 1)).rejects.toMatchObject({ code: 'NVME_STATUS' });
  });
});
