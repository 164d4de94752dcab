import { describe, expect, it } from 'vitest';
import {
  FeatureId,
  FeatureSelect,
  FEATURES_SV,
  AEC_DISCOVERY_LOG_CHANGE,
  AEC_NS_ATTRIBUTE,
  encodeGetFeatures,
  encodeSetFeatures,
  decodeFeaturesCommand,
  encodeNumberOfQueues,
  decodeNumberOfQueues,
} from '../../../src/nvme/features.js';
import { buildStruct } from './support/spec-struct.js';

// NVMe Base 2.0 5.15 (Get Features, Figure 191) and 5.27 (Set Features, Figure 316).
describe('Get / Set Features', () => {
  it('names the feature identifiers of Figure 317', () => {
    expect([
      FeatureId.NumberOfQueues,
      FeatureId.AsyncEventConfig,
      FeatureId.KeepAliveTimer,
    ]).toEqual([0x07, 0x0b, 0x0f]);
    expect([FeatureId.VolatileWriteCache, FeatureId.HostIdentifier]).toEqual([0x06, 0x81]);
  });

  it('Get Features: opcode 0Ah, FID CDW10 7:0, SEL 10:8', () => {
    const golden = buildStruct(64, [
      [0, 'u8', 0x0a],
      [1, 'u8', 0x40],
      [2, 'u16', 5],
      [40, 'u32', 0x0f | (FeatureSelect.SupportedCapabilities << 8)],
    ]);
    const enc = encodeGetFeatures({ cid: 5, fid: FeatureId.KeepAliveTimer, sel: 3 });
    expect(enc.equals(golden)).toBe(true);
    expect(decodeFeaturesCommand(golden)).toMatchObject({ fid: 0x0f, sel: 3, save: false });
  });

  it('Set Features: opcode 09h, SV CDW10 bit 31, value CDW11', () => {
    const golden = buildStruct(64, [
      [0, 'u8', 0x09],
      [1, 'u8', 0x40],
      [2, 'u16', 6],
      [4, 'u32', 1],
      [40, 'u32', 0x80000007],
      [44, 'u32', 0x00030003],
    ]);
    const enc = encodeSetFeatures({
      cid: 6,
      nsid: 1,
      fid: FeatureId.NumberOfQueues,
      save: true,
      cdw11: encodeNumberOfQueues({ sqCount: 4, cqCount: 4 }),
    });
    expect(enc.equals(golden)).toBe(true);
    expect(decodeFeaturesCommand(golden)).toMatchObject({ fid: 7, save: true, cdw11: 0x00030003 });
    expect(FEATURES_SV).toBe(0x80000000);
  });

  it('Number of Queues: NSQR 15:0 and NCQR 31:16, both 0-based', () => {
    expect(encodeNumberOfQueues({ sqCount: 2, cqCount: 65535 })).toBe(0xfffe0001);
    expect(decodeNumberOfQueues(0x00070003)).toEqual({ nsqr: 3, ncqr: 7, sqCount: 4, cqCount: 8 });
    expect(() => encodeNumberOfQueues({ sqCount: 0, cqCount: 1 })).toThrow(RangeError);
    expect(() => encodeNumberOfQueues({ sqCount: 65536, cqCount: 1 })).toThrow(RangeError);
  });

  it('Async Event Configuration bits: namespace attribute 8, discovery log change 31', () => {
    expect(AEC_NS_ATTRIBUTE).toBe(0x100);
    expect(AEC_DISCOVERY_LOG_CHANGE).toBe(0x80000000);
  });
});
