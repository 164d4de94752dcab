import { describe, expect, it } from 'vitest';
import { toNvmeStatus, NvmeCommandError } from '../../../src/target/to-nvme-status.js';
import { NvmeStatusError } from '../../../src/nvme/status.js';

describe('toNvmeStatus', () => {
  it('keeps SCT, SC and DNR of an NvmeStatusError in CQE status bits 15:1', () => {
    // SCT 2 at bits 11:9, SC 85h at bits 8:1, DNR bit 15.
    expect(toNvmeStatus(new NvmeStatusError(2, 0x85, 'x')).status).toBe(
      (2 << 9) | (0x85 << 1) | 0x8000,
    );
    expect(toNvmeStatus(new NvmeStatusError(0, 0x06, 'x', false)).status).toBe(0x06 << 1);
  });

  it('carries the DW0 of an NvmeCommandError', () => {
    const r = toNvmeStatus(new NvmeCommandError(1, 0x82, 'bad', (1 << 16) | 256));
    expect(r).toEqual({ status: (1 << 9) | (0x82 << 1) | 0x8000, dw0: (1 << 16) | 256 });
  });

  it('maps ENOSPC to Capacity Exceeded and anything else to a retryable Internal Error', () => {
    const enospc = Object.assign(new Error('full'), { code: 'ENOSPC' });
    expect(toNvmeStatus(enospc).status).toBe((0x81 << 1) | 0x8000);
    expect(toNvmeStatus(new TypeError('bug')).status).toBe(0x06 << 1);
    expect(toNvmeStatus('string').status).toBe(0x06 << 1);
  });
});
