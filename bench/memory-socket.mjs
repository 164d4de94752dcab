/**
 * An in-memory socket pair for profile-nvmf.mjs's in-process runs: a Duplex with the few Socket
 * methods the NVMe/TCP queues call, whose corked writes reach the peer as one chunk a macrotask
 * later (like a writev through loopback), so the protocol code runs as it does on TCP.
 */
import { Duplex } from 'node:stream';

export class MemorySocket extends Duplex {
  constructor() {
    super();
    this.peer = undefined;
    this.remoteAddress = '127.0.0.1';
    this.remotePort = 0;
    this.pending = [];
    this.scheduled = false;
  }
  setNoDelay() {
    return this;
  }
  setKeepAlive() {
    return this;
  }
  _read() {}
  // A corked batch reaches the peer as one chunk, a macrotask later, like a writev through the
  // kernel; the copy stands for the kernel's.
  _writev(chunks, cb) {
    this.deliver(chunks.length === 1 ? chunks[0].chunk : Buffer.concat(chunks.map((c) => c.chunk)));
    cb();
  }
  _write(chunk, _enc, cb) {
    this.deliver(chunk);
    cb();
  }
  _final(cb) {
    setImmediate(() => this.peer.push(null));
    cb();
  }
  _destroy(err, cb) {
    setImmediate(() => this.peer?.destroy());
    cb(err);
  }
  deliver(buf) {
    this.pending.push(buf);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const all = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
      this.pending = [];
      this.peer.push(all);
    });
  }
}

export function memorySocketPair() {
  const a = new MemorySocket();
  const b = new MemorySocket();
  a.peer = b;
  b.peer = a;
  return [a, b];
}
