/**
 * A tiny in-test command handler: 512-byte blocks in a Map; opcode 0x01 writes (SLBA in CDW10,
 * 0's based block count in CDW12), 0x02 reads, 0x00 does nothing. Enough to move real bytes
 * through the transport without src/target.
 */
import type { CommandHandler, TargetResponse } from '../../../../../src/transport/tcp/index.js';

export const BLOCK = 512;

export function blockStore(): { handler: CommandHandler; blocks: Map<number, Buffer> } {
  const blocks = new Map<number, Buffer>();
  const handler: CommandHandler = (sqe, data): TargetResponse => {
    const opcode = sqe[0];
    const slba = sqe.readUInt32LE(40);
    const nlb = (sqe.readUInt32LE(48) & 0xffff) + 1;
    if (opcode === 0x01) {
      if (!data || data.length !== nlb * BLOCK) return { status: 0x0f << 1 }; // Data SGL Length Invalid
      for (let i = 0; i < nlb; i++)
        blocks.set(slba + i, Buffer.from(data.subarray(i * BLOCK, (i + 1) * BLOCK)));
      return { status: 0 };
    }
    if (opcode === 0x02) {
      const parts: Buffer[] = [];
      for (let i = 0; i < nlb; i++) parts.push(blocks.get(slba + i) ?? Buffer.alloc(BLOCK));
      return { status: 0, data: parts };
    }
    if (opcode === 0x00) return { status: 0, dw0: 0x1234 };
    return { status: 0x01 << 1 }; // Invalid Command Opcode
  };
  return { handler, blocks };
}

/** A Read or Write SQE for `blocks` 512-byte blocks at `lba` (SGL1 is set by the HostQueue). */
export function rwSqe(opcode: 0x01 | 0x02, lba: number, blocks: number): Buffer {
  const b = Buffer.alloc(64);
  b[0] = opcode;
  b[1] = 0x40;
  b.writeUInt32LE(1, 4);
  b.writeUInt32LE(lba, 40);
  b.writeUInt32LE(blocks - 1, 48);
  return b;
}

/** Deterministic pattern: each 8-byte word holds its own byte offset plus `seed`. */
export function pattern(length: number, seed: number): Buffer {
  const b = Buffer.alloc(length);
  for (let i = 0; i + 8 <= length; i += 8) b.writeBigUInt64LE(BigInt(i + seed), i);
  return b;
}
