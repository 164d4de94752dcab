// Renders the figures of one bench/run.mjs run as bench/RESULTS.md.
const fmt = (v, digits = 0) => (Number.isFinite(v) ? v.toFixed(digits) : '—');
const ratio = (a, b) => (Number.isFinite(a / b) && b !== 0 ? (a / b).toFixed(2) : '—');

export function resultsMarkdown(r) {
  const byLabel = new Map(r.nvmfResults.map((x) => [x.label, x.f]));
  const rr32 = byLabel.get('4 KiB randread QD32');
  const seq = byLabel.get('128 KiB seq read QD16');
  const lines = [
    '# Benchmarks',
    '',
    `Produced by \`npm run bench\` (bench/run.mjs) on ${r.started.toISOString()}, ${r.runtime} s per run.`,
    'Every figure comes from that one run; the references were measured in the same run on the same machine.',
    '',
    '## Machine',
    '',
    '| | |',
    '| --- | --- |',
    ...Object.entries(r.info).map(([k, v]) => `| ${k} | ${v} |`),
    `| load average (1 min) | ${r.load0[0].toFixed(2)} at start, ${r.load1[0].toFixed(2)} at end |`,
    '',
    'A load average above the CPU count means other processes competed for the CPUs, and wall-clock',
    'figures (IOPS, latency) are noisy in proportion; the CPU cost per I/O (µs of CPU time, user + system)',
    'is much less sensitive to that, so compare those and the ratios within one run.',
    '',
    '## NVMe/TCP: nvmf-bench --ioengine=nvmf → nvmf-target (memory namespace, one connection)',
    '',
    '| workload | IOPS | MB/s | mean clat (µs) | p99 clat (µs) | nvmf-bench CPU µs/IO | nvmf-target CPU µs/IO |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.nvmfResults.map(
      ({ label, f }) =>
        `| ${label} | ${fmt(f.iops)} | ${fmt(f.mbps, 1)} | ${fmt(f.meanUs, 1)} | ${fmt(f.p99Us, 1)} | ${fmt(f.cpuUsPerIo, 1)} | ${fmt(f.serverUsPerIo, 1)} |`,
    ),
    '',
    '### References, same run',
    '',
    '| reference | ops/s | MB/s | p99 clat (µs) | client CPU µs/op | server CPU µs/op |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    `| bare Node TCP pump (bench/tcp-pump.mjs), 4 KiB replies, 32 in flight | ${fmt(r.pump4k.iops)} | ${fmt(r.pump4k.mbps, 1)} | — | ${fmt(r.pump4k.cpuUsPerOp, 1)} | ${fmt(r.pump4k.serverUsPerOp, 1)} |`,
    `| bare Node TCP pump, 128 KiB replies, 16 in flight | ${fmt(r.pump128k.iops)} | ${fmt(r.pump128k.mbps, 1)} | — | ${fmt(r.pump128k.cpuUsPerOp, 1)} | ${fmt(r.pump128k.serverUsPerOp, 1)} |`,
    r.fioNbd
      ? `| ${r.info.fio} --ioengine=nbd on nbdkit memory, 4 KiB randread QD32 | ${fmt(r.fioNbd.iops)} | ${fmt(r.fioNbd.mbps, 1)} | ${fmt(r.fioNbd.p99Us, 1)} | ${fmt(r.fioNbd.cpuUsPerIo, 1)} | ${fmt(r.fioNbd.serverUsPerIo, 1)} |`
      : '| fio on nbdkit | not measured (fio or nbdkit missing, or --no-fio) | | | | |',
    '',
    '### Against the aims of issue 2',
    '',
    '| aim | measured | ratio |',
    '| --- | --- | ---: |',
    r.fioNbd
      ? `| 4 KiB randread QD32 through nvmf-target ≥ fio on nbdkit memory | ${fmt(rr32.iops)} vs ${fmt(r.fioNbd.iops)} IOPS | ${ratio(rr32.iops, r.fioNbd.iops)} |`
      : '| 4 KiB randread QD32 ≥ fio on nbdkit | fio not measured | — |',
    `| 128 KiB sequential read ≥ 0.8 × bare TCP pump | ${fmt(seq.mbps, 1)} vs ${fmt(r.pump128k.mbps, 1)} MB/s | ${ratio(seq.mbps, r.pump128k.mbps)} |`,
    `| (for scale) 4 KiB randread QD32 vs bare TCP pump at 4 KiB | ${fmt(rr32.iops)} vs ${fmt(r.pump4k.iops)} ops/s | ${ratio(rr32.iops, r.pump4k.iops)} |`,
    `| (for scale) target CPU per 4 KiB read vs pump server CPU per op | ${fmt(rr32.serverUsPerIo, 1)} vs ${fmt(r.pump4k.serverUsPerOp, 1)} µs | ${ratio(rr32.serverUsPerIo, r.pump4k.serverUsPerOp)} |`,
    '',
  ];
  if (r.fioNbd) {
    const row = (label, f, o) =>
      `| ${label} | ${fmt(f.iops)} | ${fmt(o.iops)} | ${ratio(o.iops, f.iops)} | ${fmt(f.p50Us, 1)} | ${fmt(o.p50Us, 1)} | ${ratio(o.p50Us, f.p50Us)} | ${fmt(f.p99Us, 1)} | ${fmt(o.p99Us, 1)} | ${ratio(o.p99Us, f.p99Us)} | ${fmt(f.cpuUsPerIo, 1)} | ${fmt(o.cpuUsPerIo, 1)} |`;
    lines.push(
      '## nvmf-bench vs fio on nbdkit memory (issue 3)',
      '',
      'The same workload by real fio (--ioengine=nbd, libnbd) and by nvmf-bench (--ioengine=nbd, the',
      "project's NbdClient) against one `nbdkit memory 1G`; ratio = nvmf-bench / fio.",
      'One round each, back to back. At QD32 fio itself alternates between runs where it is the',
      'bottleneck (~35k IOPS, narrow latency) and runs where it is not (~50k, long tail), so one',
      "round's ratios swing; test/e2e/bench/nbd-vs-fio.test.ts takes the median of 5-7 rounds.",
      '',
      '| workload | fio IOPS | nvmf-bench IOPS | ratio | fio p50 (µs) | nvmf-bench p50 | ratio | fio p99 (µs) | nvmf-bench p99 | ratio | fio CPU µs/IO | nvmf-bench CPU µs/IO |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      row('4 KiB randread QD32', r.fioNbd, r.oursNbd),
      row('4 KiB randread QD1', r.fioNbdQd1, r.oursNbdQd1),
      ...(r.fioNbdRate ? [row(r.rateLabel, r.fioNbdRate, r.oursNbdRate)] : []),
      '',
    );
  }
  for (const p of r.profiles ?? []) {
    if (p.rows.length === 0) continue;
    lines.push(
      `## Where nvmf-target spends its time (${p.label})`,
      '',
      '`node --cpu-prof` of a fresh target process serving only this run (its whole life, start-up',
      'included; never-written blocks, so reads return zeroes); self time as a share of busy',
      '(non-idle) time, top entries:',
      '',
      '| self % | function | location |',
      '| ---: | --- | --- |',
      ...p.rows.map(
        (row) => `| ${row.percent.toFixed(1)} | ${row.name || '(anonymous)'} | ${row.location} |`,
      ),
      '',
    );
  }
  const anonymise = (c) =>
    c
      .replace(/trsvcid=\d+/, 'trsvcid=PORT')
      .replace(/nbd:\/\/127\.0\.0\.1:\d+/, 'nbd://127.0.0.1:PORT')
      .replace(/client \d+/, 'client PORT')
      .replace(/\/tmp\/nvmf-bench-suite-\w+/g, 'TMP');
  lines.push(
    '## Commands',
    '',
    'Ports are ephemeral (PORT is the one the server printed); TMP is a scratch directory.',
    '',
    '```',
    ...r.commands.map(anonymise),
    '```',
    '',
  );
  return lines.join('\n');
}
