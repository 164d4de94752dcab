import { describe, expect, it } from 'vitest';
import {
  Namespace,
  deriveNguid,
  deriveUuid,
  formatUuid,
  parseNguid,
  parseUuid,
} from '../../../src/target/namespace.js';
import { Subsystem } from '../../../src/target/subsystem.js';
import { MemoryBdev } from '../../../src/bdev/memory-bdev.js';

const NQN = 'nqn.2024-01.io.nvmf-dpu:ns';
const bdev = () => new MemoryBdev({ name: 'm', blockSize: 512, blockCount: 8 });

describe('namespace identifiers', () => {
  it('derive the same NGUID/UUID for the same (NQN, NSID, identity), different otherwise', () => {
    const a = new Namespace(bdev(), NQN, { nsid: 1, identity: '/var/lib/a.img' });
    const again = new Namespace(bdev(), NQN, { nsid: 1, identity: '/var/lib/a.img' });
    const b = new Namespace(bdev(), NQN, { nsid: 2, identity: '/var/lib/a.img' });
    expect(again.nguid).toEqual(a.nguid);
    expect(again.uuid).toEqual(a.uuid);
    expect(b.nguid).not.toEqual(a.nguid);
    expect(deriveNguid(NQN, 1, 'x')).not.toEqual(deriveNguid(`${NQN}2`, 1, 'x'));
  });

  it('make a version 5, RFC 4122 variant UUID', () => {
    const u = deriveUuid(NQN, 1, 'x');
    expect(u[6] >> 4).toBe(5);
    expect(u[8] >> 6).toBe(0b10);
    expect(formatUuid(u)).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('take configured identifiers as given and reject malformed ones', () => {
    const ns = new Namespace(bdev(), NQN, {
      nsid: 3,
      nguid: '00112233445566778899aabbccddeeff',
      uuid: '01234567-89ab-cdef-0123-456789abcdef',
    });
    expect(ns.nguid.toString('hex')).toBe('00112233445566778899aabbccddeeff');
    expect(formatUuid(ns.uuid)).toBe('01234567-89ab-cdef-0123-456789abcdef');
    expect(() => parseNguid('0011')).toThrow(/32 hex digits/);
    expect(() => parseUuid('not-a-uuid')).toThrow(RangeError);
    expect(() => new Namespace(bdev(), NQN, { nsid: 0 })).toThrow(/1\.\.1024/);
  });
});

describe('subsystem', () => {
  it('validates its NQN, serial and model, and refuses the discovery NQN', () => {
    expect(() => new Subsystem({ nqn: 'bad', allowAnyHost: true, allowedHosts: [] })).toThrow(
      /subsystem NQN/,
    );
    expect(
      () =>
        new Subsystem({
          nqn: 'nqn.2014-08.org.nvmexpress.discovery',
          allowAnyHost: true,
          allowedHosts: [],
        }),
    ).toThrow(/discovery NQN/);
    expect(
      () =>
        new Subsystem({ nqn: NQN, serial: 'x'.repeat(21), allowAnyHost: true, allowedHosts: [] }),
    ).toThrow(/serial/);
    expect(() => new Subsystem({ nqn: NQN, allowAnyHost: false, allowedHosts: ['host'] })).toThrow(
      /host NQN/,
    );
  });

  it('gives a stable 20-character serial when none is set', () => {
    const a = new Subsystem({ nqn: NQN, allowAnyHost: true, allowedHosts: [] });
    const b = new Subsystem({ nqn: NQN, allowAnyHost: true, allowedHosts: [] });
    expect(a.serial).toMatch(/^[0-9A-F]{20}$/);
    expect(b.serial).toBe(a.serial);
  });

  it('hands out the lowest free NSID and refuses a taken one', () => {
    const s = new Subsystem({ nqn: NQN, allowAnyHost: true, allowedHosts: [] });
    s.addNamespace(bdev(), { nsid: 2 });
    expect(s.addNamespace(bdev()).nsid).toBe(1);
    expect(s.addNamespace(bdev()).nsid).toBe(3);
    expect(() => s.addNamespace(bdev(), { nsid: 2 })).toThrow(/already in use/);
  });

  it('allocates CNTLIDs round robin, skipping those in use', () => {
    const s = new Subsystem({ nqn: NQN, allowAnyHost: true, allowedHosts: [] });
    const ctrl = (cntlid: number) => ({ cntlid, hostnqn: 'h', namespacesChanged: () => undefined });
    const first = s.allocateCntlid()!;
    s.attach(ctrl(first));
    expect(s.allocateCntlid()).toBe(first + 1);
    s.detach(ctrl(first));
    expect(s.allocateCntlid()).toBe(first + 2);
  });
});
