#!/usr/bin/env node
// The reference for bench/run.mjs: a bare Node TCP request/response pump over loopback that moves
// the same bytes as an NVMe/TCP read workload — a 72-byte request (the size of a CapsuleCmd PDU
// with its 64-byte SQE) answered by a reply of the block size plus 24 bytes of header (a C2HData
// PDU header; the 24-byte CapsuleResp is folded in), `depth` requests in flight — with none of the
// protocol work. What nvmf-target + nvmf-bench reach is measured against what Node's sockets
// reach here on the same machine in the same run.
//
//   node bench/tcp-pump.mjs server            → prints "listening on 127.0.0.1:PORT"
//   node bench/tcp-pump.mjs client PORT BYTES DEPTH SECONDS   → prints one JSON line
import net from 'node:net';
import { performance } from 'node:perf_hooks';

const REQUEST_BYTES = 72;
const REPLY_HEADER_BYTES = 24;
const LENGTH_OFFSET = 0;

function server() {
  const srv = net.createServer({ noDelay: true }, (sock) => {
    let pending = Buffer.alloc(0);
    const payloads = new Map();
    sock.on('data', (chunk) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      sock.cork();
      while (pending.length >= REQUEST_BYTES) {
        const bytes = pending.readUInt32LE(LENGTH_OFFSET);
        let payload = payloads.get(bytes);
        if (!payload) payloads.set(bytes, (payload = Buffer.alloc(bytes, 0x5a)));
        const header = Buffer.allocUnsafe(REPLY_HEADER_BYTES);
        header.writeUInt32LE(bytes, 0);
        sock.write(header);
        sock.write(payload);
        pending = pending.subarray(REQUEST_BYTES);
      }
      process.nextTick(() => sock.uncork());
    });
    sock.on('error', () => sock.destroy());
  });
  srv.listen(0, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${srv.address().port}`));
  process.on('SIGTERM', () => srv.close(() => process.exit(0)));
}

function client(port, bytes, depth, seconds) {
  const sock = net.connect({ host: '127.0.0.1', port, noDelay: true });
  const request = Buffer.alloc(REQUEST_BYTES);
  request.writeUInt32LE(bytes, LENGTH_OFFSET);
  const replyBytes = bytes + REPLY_HEADER_BYTES;
  let buffered = 0;
  let done = 0;
  let stopping = false;
  let start = 0;
  let cpu0;
  const finish = () => {
    const ms = performance.now() - start;
    const cpu = process.cpuUsage(cpu0);
    console.log(
      JSON.stringify({
        ops: done,
        ms,
        iops: (done * 1000) / ms,
        mbps: (done * bytes) / 1e6 / (ms / 1000),
        cpuUsPerOp: (cpu.user + cpu.system) / done,
      }),
    );
    sock.destroy();
  };
  sock.on('connect', () => {
    start = performance.now();
    cpu0 = process.cpuUsage();
    setTimeout(() => (stopping = true), seconds * 1000);
    sock.cork();
    for (let i = 0; i < depth; i++) sock.write(request);
    process.nextTick(() => sock.uncork());
  });
  let inFlight = depth;
  sock.on('data', (chunk) => {
    buffered += chunk.length;
    let replies = 0;
    while (buffered >= replyBytes) {
      buffered -= replyBytes;
      replies++;
    }
    done += replies;
    inFlight -= replies;
    if (stopping) {
      if (inFlight === 0) finish();
      return;
    }
    sock.cork();
    for (let i = 0; i < replies; i++) sock.write(request);
    inFlight += replies;
    process.nextTick(() => sock.uncork());
  });
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'server') server();
else if (mode === 'client')
  client(Number(args[0]), Number(args[1]), Number(args[2]), Number(args[3]));
else {
  console.error('usage: tcp-pump.mjs server | client PORT BYTES DEPTH SECONDS');
  process.exit(1);
}
