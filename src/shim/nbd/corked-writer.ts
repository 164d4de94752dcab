/**
 * Writes message buffers to a socket in one corked batch per tick (STYLE.md rule 5, ws's
 * sender): a header and its payload go out as separate buffers, never concatenated, and all the
 * messages produced in one tick leave in as few segments as the kernel allows.
 */
import type { Socket } from 'node:net';

export class CorkedWriter {
  private corked = false;

  constructor(private readonly socket: Socket) {}

  /** Queues the buffers of one message, in order. False once the socket can no longer write. */
  write(buffers: readonly Buffer[]): boolean {
    const s = this.socket;
    if (s.destroyed || !s.writable) return false;
    if (!this.corked) {
      this.corked = true;
      s.cork();
      process.nextTick(() => {
        this.corked = false;
        s.uncork();
      });
    }
    for (const b of buffers) if (b.length > 0) s.write(b);
    return true;
  }
}
