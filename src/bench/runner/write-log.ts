/**
 * The blocks a verifying write job wrote, by offset, with the seeds their data came from: the
 * verify phase reads each back and expects those seeds (fio's do_verify over its io_piece log).
 */
import { READ, WRITE } from '../options/job-spec.js';
import type { IoPattern, IoUnit } from '../workload/io-pattern.js';
import type { IoSource } from './queue-slot.js';

interface Piece {
  length: number;
  seedLo: number;
  seedHi: number;
}

export class WriteLog {
  private readonly pieces = new Map<number, Piece>();

  /** `u` was written: a later write at the same offset replaces it, as its data does. */
  record(u: IoUnit): void {
    this.pieces.set(u.offset, { length: u.length, seedLo: u.seedLo, seedHi: u.seedHi });
  }

  /** verify_only: walk the write phase's offsets and seeds without writing (fio HOWTO verify_only). */
  replay(pattern: IoPattern): void {
    for (let u = pattern.next(); u; u = pattern.next()) {
      if (u.ddir === WRITE) this.record(u);
    }
  }

  /** Reads back every logged block in offset order, expecting the seeds it was written with. */
  verifySource(): IoSource {
    const offsets = [...this.pieces.keys()].sort((a, b) => a - b);
    let i = 0;
    return () => {
      if (i >= offsets.length) return undefined;
      const offset = offsets[i++];
      const p = this.pieces.get(offset)!;
      return { ddir: READ, offset, length: p.length, seedLo: p.seedLo, seedHi: p.seedHi };
    };
  }
}
