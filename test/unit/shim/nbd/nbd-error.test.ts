import { describe, expect, it } from 'vitest';
import {
  GenericStatus,
  MediaStatus,
  NvmeStatusError,
  StatusCodeType,
  invalidField,
  lbaOutOfRange,
} from '../../../../src/bdev/index.js';
import { NbdError, nbdErrnoToStatus, toNbdErrno } from '../../../../src/shim/nbd/nbd-error.js';

// proto.md "Error values", typed in.
const E = {
  EPERM: 1,
  EIO: 5,
  ENOMEM: 12,
  EINVAL: 22,
  ENOSPC: 28,
  EOVERFLOW: 75,
  ENOTSUP: 95,
  ESHUTDOWN: 108,
};
const FAST_ZERO = 16;
const DF = 4;
const sysErr = (code: string) => Object.assign(new Error(code), { code });

describe('toNbdErrno: the one mapping of a failure to the wire', () => {
  it.each([
    ['NbdError keeps its errno', new NbdError(E.ENOSPC, 'x'), E.ENOSPC],
    ['Invalid Field', invalidField(), E.EINVAL],
    ['LBA Out of Range', lbaOutOfRange(), E.EINVAL],
    [
      'Capacity Exceeded',
      new NvmeStatusError(StatusCodeType.Generic, GenericStatus.CapacityExceeded),
      E.ENOSPC,
    ],
    [
      'Namespace Write Protected',
      new NvmeStatusError(StatusCodeType.Generic, GenericStatus.NamespaceWriteProtected),
      E.EPERM,
    ],
    [
      'Write Fault',
      new NvmeStatusError(StatusCodeType.MediaAndDataIntegrity, MediaStatus.WriteFault),
      E.EIO,
    ],
    [
      'Internal Error',
      new NvmeStatusError(StatusCodeType.Generic, GenericStatus.InternalError),
      E.EIO,
    ],
    ['EROFS', sysErr('EROFS'), E.EPERM],
    ['EDQUOT', sysErr('EDQUOT'), E.ENOSPC],
    ['EFBIG', sysErr('EFBIG'), E.ENOSPC],
    ['EIO', sysErr('EIO'), E.EIO],
    ['ENOMEM', sysErr('ENOMEM'), E.ENOMEM],
    ['unknown system code', sysErr('EWHATEVER'), E.EIO],
    ['RangeError', new RangeError('bad'), E.EINVAL],
    ['a string', 'oops', E.EIO],
  ])('%s → %i', (_name, err, errno) => {
    expect(toNbdErrno(err)).toBe(errno);
  });

  it('sends ENOTSUP only for FAST_ZERO and EOVERFLOW only for DF (proto.md SHOULD NOT)', () => {
    expect(toNbdErrno(new NbdError(E.ENOTSUP, 'x'))).toBe(E.EINVAL);
    expect(toNbdErrno(new NbdError(E.ENOTSUP, 'x'), FAST_ZERO)).toBe(E.ENOTSUP);
    expect(toNbdErrno(sysErr('EOPNOTSUPP'), FAST_ZERO)).toBe(E.ENOTSUP);
    expect(toNbdErrno(sysErr('EOVERFLOW'))).toBe(E.EINVAL);
    expect(toNbdErrno(sysErr('EOVERFLOW'), DF)).toBe(E.EOVERFLOW);
  });

  it('gives NbdError a stable code', () => {
    expect(new NbdError(E.EINVAL, 'x').code).toBe('NBD_EINVAL');
  });
});

describe('nbdErrnoToStatus: NBD errors as NVMe statuses on the client', () => {
  it.each([
    [E.EPERM, false, StatusCodeType.Generic, GenericStatus.NamespaceWriteProtected, true],
    [E.EIO, false, StatusCodeType.MediaAndDataIntegrity, MediaStatus.UnrecoveredReadError, true],
    [E.EIO, true, StatusCodeType.MediaAndDataIntegrity, MediaStatus.WriteFault, true],
    [E.ENOSPC, true, StatusCodeType.Generic, GenericStatus.CapacityExceeded, true],
    [E.ENOMEM, false, StatusCodeType.Generic, GenericStatus.InternalError, false],
    [E.ESHUTDOWN, false, StatusCodeType.Generic, GenericStatus.NamespaceNotReady, false],
    [E.EINVAL, false, StatusCodeType.Generic, GenericStatus.InvalidField, true],
    [77, false, StatusCodeType.Generic, GenericStatus.InvalidField, true], // unknown → as EINVAL
  ])('errno %i (write %s) → sct %i sc %i dnr %s', (errno, write, sct, sc, dnr) => {
    const err = nbdErrnoToStatus(errno, 'READ 0+512', write);
    expect(err).toBeInstanceOf(NvmeStatusError);
    expect({ sct: err.sct, sc: err.sc, dnr: err.dnr }).toEqual({ sct, sc, dnr });
    expect(err.message).toMatch(/^READ 0\+512 failed: NBD /);
  });
});
