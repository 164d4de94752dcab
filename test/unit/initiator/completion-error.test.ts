import { describe, expect, it } from 'vitest';
import { encodeCqe } from '../../../src/nvme/cqe.js';
import { NvmeStatusError } from '../../../src/nvme/status.js';
import {
  completionError,
  describeStatus,
  connectionLostError,
  notLiveError,
  commandTimeoutError,
} from '../../../src/initiator/completion-error.js';

describe('completion errors', () => {
  it('names the status from an error CQE and keeps SCT, SC and DNR', () => {
    // SCT 0 SC 0x80 LBA Out of Range, DNR: status field = (0x80 << 1) | (1 << 15).
    const cqe = Buffer.alloc(16);
    cqe.writeUInt16LE((0x80 << 1) | 0x8000, 14);
    const err = completionError(cqe, 'Read ns 1 lba 10+8');
    expect(err).toBeInstanceOf(NvmeStatusError);
    expect([err.sct, err.sc, err.dnr]).toEqual([0, 0x80, true]);
    expect(err.message).toBe('Read ns 1 lba 10+8 failed: LBA Out of Range (sct 0x0, sc 0x80)');
  });

  it('describes Fabrics Connect statuses and unknown codes', () => {
    expect(describeStatus(1, 0x84)).toMatch(/^Connect Invalid Host/);
    expect(describeStatus(7, 0x12)).toBe('vendor specific status (sct 0x7, sc 0x12)');
    const cqe = encodeCqe({ cid: 1, sct: 1, sc: 0x82, dnr: false });
    expect(completionError(cqe, 'Connect').dnr).toBe(false);
  });

  it('marks host-side failures retryable (DNR=0) with path or transient statuses', () => {
    const lost = connectionLostError('Write', 'ECONNRESET');
    expect([lost.sct, lost.sc, lost.dnr]).toEqual([0, 0x22, false]);
    const timeout = commandTimeoutError('Read', 500);
    expect([timeout.sct, timeout.sc, timeout.dnr]).toEqual([3, 0x71, false]);
    expect(timeout.message).toBe('Read timed out after 500 ms; the controller is being reset');
    expect(notLiveError('Read', 'reconnecting', true).dnr).toBe(false);
    expect(notLiveError('Read', 'deleted', false).dnr).toBe(true);
  });
});
