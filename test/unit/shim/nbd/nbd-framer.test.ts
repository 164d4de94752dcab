import { describe, expect, it } from 'vitest';
import { FrameKind, NbdFramer, type Frame } from '../../../../src/shim/nbd/nbd-framer.js';
import { NbdProtocolError } from '../../../../src/shim/nbd/nbd-error.js';
import {
  bytes,
  chunk,
  IHAVEOPT,
  NBDMAGIC,
  option,
  optionReply,
  request,
  simpleReply,
} from './nbd-bytes.js';

const CMD_READ = 0;
const CMD_WRITE = 1;
const CMD_FLUSH = 3;

/** Feeds `stream` cut at `cuts`, switching kinds as a session would; returns frames as hex. */
function frameAll(
  stream: Buffer,
  cuts: number[],
  first: FrameKind,
  next: (f: Frame) => FrameKind,
  readLength = 0,
): { kind: FrameKind; header: string; payload: string }[] {
  const framer = new NbdFramer(first, {
    maxPayload: 1 << 20,
    simpleReplyDataLength: (_h, error) => (error === 0 ? readLength : 0),
  });
  const out: { kind: FrameKind; header: string; payload: string }[] = [];
  let at = 0;
  for (const cut of [...cuts, stream.length]) {
    framer.push(stream.subarray(at, cut), (f) => {
      out.push({
        kind: f.kind,
        header: f.header.toString('hex'),
        payload: f.payload.toString('hex'),
      });
      framer.expect = next(f);
    });
    at = cut;
  }
  expect(framer.pending).toBe(0);
  return out;
}

describe('NbdFramer, server side (client to server stream)', () => {
  const flags = bytes().u32(3).build();
  const opt = option(7, bytes().str32('vol0').u16(1).u16(3).build());
  const write = request(CMD_WRITE, '0000000000000001', 4096, 8, 0, Buffer.from('ABCDEFGH'));
  const flush = request(CMD_FLUSH, '0000000000000002', 0, 0);
  const stream = Buffer.concat([flags, opt, write, flush]);
  // Session logic: flags → options; after the GO option → transmission requests.
  const next = (f: Frame) =>
    f.kind === FrameKind.ClientFlags ? FrameKind.Option : FrameKind.Request;
  const expected = [
    { kind: FrameKind.ClientFlags, header: '00000003', payload: '' },
    {
      kind: FrameKind.Option,
      header: opt.subarray(0, 16).toString('hex'),
      payload: opt.subarray(16).toString('hex'),
    },
    {
      kind: FrameKind.Request,
      header: write.subarray(0, 28).toString('hex'),
      payload: Buffer.from('ABCDEFGH').toString('hex'),
    },
    { kind: FrameKind.Request, header: flush.toString('hex'), payload: '' },
  ];

  it('cuts whole messages from one chunk', () => {
    expect(frameAll(stream, [], FrameKind.ClientFlags, next)).toEqual(expected);
  });

  it('gives the same messages when split at every byte boundary', () => {
    for (let i = 1; i < stream.length; i++) {
      expect(frameAll(stream, [i], FrameKind.ClientFlags, next), `split at ${i}`).toEqual(expected);
    }
  });

  it('gives the same messages fed one byte at a time', () => {
    const cuts = Array.from({ length: stream.length - 1 }, (_, i) => i + 1);
    expect(frameAll(stream, cuts, FrameKind.ClientFlags, next)).toEqual(expected);
  });

  it('hands out views of the received chunk when a message lies inside it', () => {
    const framer = new NbdFramer(FrameKind.Request, { maxPayload: 1 << 20 });
    const frames: Frame[] = [];
    framer.push(write, (f) => frames.push(f));
    expect(frames[0].payload.buffer).toBe(write.buffer);
    expect(frames[0].payload.byteOffset).toBe(write.byteOffset + 28);
  });

  it('rejects a request with a bad magic', () => {
    const bad = Buffer.from(write);
    bad[0] ^= 0xff;
    const framer = new NbdFramer(FrameKind.Request, { maxPayload: 1 << 20 });
    expect(() => framer.push(bad, () => {})).toThrow(
      expect.objectContaining({ code: 'NBD_ERR_BAD_MAGIC' }),
    );
  });

  it('rejects an option whose magic is not IHAVEOPT', () => {
    const bad = bytes().u64hex(NBDMAGIC).u32(1).u32(0).build();
    const framer = new NbdFramer(FrameKind.Option, { maxPayload: 1 << 20 });
    expect(() => framer.push(bad, () => {})).toThrow(NbdProtocolError);
  });

  it('refuses a payload above the limit before buffering it', () => {
    const huge = bytes().u64hex(IHAVEOPT).u32(7).u32(65537).build();
    const framer = new NbdFramer(FrameKind.Option, { maxPayload: 65536 });
    expect(() => framer.push(huge, () => {})).toThrow(
      expect.objectContaining({ code: 'NBD_ERR_TOO_LARGE' }),
    );
  });

  it('reads no payload for a READ request even though it has a length', () => {
    const read = request(CMD_READ, 'ffffffffffffffff', 0, 4096);
    const frames: Frame[] = [];
    new NbdFramer(FrameKind.Request, { maxPayload: 1 }).push(read, (f) => frames.push(f));
    expect(frames).toHaveLength(1);
    expect(frames[0].payload.length).toBe(0);
  });
});

describe('NbdFramer, client side (server to client stream)', () => {
  const greeting = bytes().u64hex(NBDMAGIC).u64hex(IHAVEOPT).u16(3).build();
  const info = optionReply(
    7,
    3,
    bytes()
      .u16(0)
      .u64(1 << 20)
      .u16(0x0d6d)
      .build(),
  );
  const ack = optionReply(7, 1);
  const readData = Buffer.from('0123456789abcdef');
  const simple = simpleReply('00000000000000aa', 0, readData);
  const simpleErr = simpleReply('00000000000000ab', 22);
  const structured = chunk(1, 1, '00000000000000ac', bytes().u64(0).raw(readData).build());
  const stream = Buffer.concat([greeting, info, ack, simple, simpleErr, structured]);
  const next = (f: Frame) => {
    if (f.kind === FrameKind.Greeting) return FrameKind.OptionReply;
    // after the ACK (reply type 1) the session enters transmission
    if (f.kind === FrameKind.OptionReply && f.header.readUInt32BE(12) === 1) return FrameKind.Reply;
    return f.kind;
  };
  const expected = [
    { kind: FrameKind.Greeting, header: greeting.toString('hex'), payload: '' },
    {
      kind: FrameKind.OptionReply,
      header: info.subarray(0, 20).toString('hex'),
      payload: info.subarray(20).toString('hex'),
    },
    { kind: FrameKind.OptionReply, header: ack.toString('hex'), payload: '' },
    {
      kind: FrameKind.Reply,
      header: simple.subarray(0, 16).toString('hex'),
      payload: readData.toString('hex'),
    },
    { kind: FrameKind.Reply, header: simpleErr.toString('hex'), payload: '' },
    {
      kind: FrameKind.Reply,
      header: structured.subarray(0, 20).toString('hex'),
      payload: structured.subarray(20).toString('hex'),
    },
  ];

  it('uses the reply magic to tell simple from structured, at every split', () => {
    expect(frameAll(stream, [], FrameKind.Greeting, next, readData.length)).toEqual(expected);
    for (let i = 1; i < stream.length; i++) {
      expect(
        frameAll(stream, [i], FrameKind.Greeting, next, readData.length),
        `split at ${i}`,
      ).toEqual(expected);
    }
  });

  it('frames a reply whose magic itself is split over three chunks', () => {
    const s = Buffer.concat([simpleErr, structured]);
    const cuts = [1, 3, 16, 17, 19];
    expect(frameAll(s, cuts, FrameKind.Reply, () => FrameKind.Reply)).toEqual(expected.slice(4));
  });

  it('frames the NBD_OPT_EXPORT_NAME reply with and without the 124 zeroes', () => {
    const withZeroes = bytes().u64(4096).u16(1).zeroes(124).build();
    const f1 = frameAll(withZeroes, [70], FrameKind.ExportNameReply, () => FrameKind.Reply);
    expect(f1).toEqual([
      { kind: FrameKind.ExportNameReply, header: withZeroes.toString('hex'), payload: '' },
    ]);
    const noZeroes = bytes().u64(4096).u16(1).build();
    const f2 = frameAll(noZeroes, [5], FrameKind.ExportNameReplyNoZeroes, () => FrameKind.Reply);
    expect(f2).toHaveLength(1);
  });

  it('rejects an unknown reply magic', () => {
    const framer = new NbdFramer(FrameKind.Reply, { maxPayload: 1 << 20 });
    expect(() => framer.push(Buffer.from('deadbeef00000000', 'hex'), () => {})).toThrow(
      expect.objectContaining({ code: 'NBD_ERR_BAD_MAGIC' }),
    );
  });

  it('survives seeded random bytes: frames or a protocol error, never another exception', () => {
    let seed = 0x5eed;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (let round = 0; round < 300; round++) {
      const junk = Buffer.from(Array.from({ length: 1 + (rand() % 200) }, rand));
      // Half the rounds start with a valid reply magic so the length fields get exercised.
      if (round % 2) junk.writeUInt32BE(round % 4 === 1 ? 0x67446698 : 0x668e33ef, 0);
      const framer = new NbdFramer(FrameKind.Reply, {
        maxPayload: 1 << 16,
        simpleReplyDataLength: () => rand(),
      });
      try {
        framer.push(junk, () => {});
      } catch (err) {
        expect(err).toBeInstanceOf(NbdProtocolError);
      }
    }
  });
});

describe('NbdFramer, reads that lie back to back in memory (a staging slab)', () => {
  const data = Buffer.alloc(4096, 0xab);
  const stream = Buffer.concat([
    request(CMD_WRITE, '0000000000000001', 8192, data.length, 0, data),
    request(CMD_FLUSH, '0000000000000002', 0, 0),
  ]);

  const frames = (pieces: Buffer[]): Frame[] => {
    const framer = new NbdFramer(FrameKind.Request, { maxPayload: 1 << 20 });
    const out: Frame[] = [];
    for (const p of pieces) framer.push(p, (f) => out.push(f));
    expect(framer.pending).toBe(0);
    return out;
  };

  it('hands out WRITE data that spans two adjacent reads as a view of them, not a copy', () => {
    const slab = Buffer.from(stream);
    const cut = 28 + 1000;
    const [write, flush] = frames([slab.subarray(0, cut), slab.subarray(cut)]);
    expect(write.payload.equals(data)).toBe(true);
    expect(write.payload.buffer).toBe(slab.buffer);
    expect(write.payload.byteOffset).toBe(slab.byteOffset + 28);
    expect(flush.header.readUInt16BE(6)).toBe(CMD_FLUSH);
  });

  it('copies WRITE data that spans reads in separate buffers', () => {
    const cut = 28 + 1000;
    // Buffer.alloc never takes memory from Node's shared pool, where two small copies can land
    // back to back (Node 24 packs them so): these two really are separate memory.
    const first = Buffer.alloc(cut);
    const second = Buffer.alloc(stream.length - cut);
    stream.copy(first, 0, 0, cut);
    stream.copy(second, 0, cut);
    const [write] = frames([first, second]);
    expect(write.payload.equals(data)).toBe(true);
    expect(write.payload.buffer).not.toBe(first.buffer);
  });
});
