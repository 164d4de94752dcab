#!/usr/bin/env node
/**
 * cpuprofile-top — the functions a V8 CPU profile (node --cpu-prof, inspector) spent its samples
 * in: self time, and inclusive time counted once per sample, by function and source line.
 *
 *   node bench/cpuprofile-top.mjs FILE.cpuprofile [--top 30] [--inclusive]
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
const topIndex = args.indexOf('--top');
const top = topIndex >= 0 ? Number(args[topIndex + 1]) : 30;
const inclusive = args.includes('--inclusive');
if (!file) {
  console.error('usage: cpuprofile-top.mjs FILE.cpuprofile [--top N] [--inclusive]');
  process.exit(2);
}

const profile = JSON.parse(readFileSync(file, 'utf8'));
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const keyOf = (n) => {
  const f = n.callFrame;
  const where = f.url ? `${path.basename(f.url)}:${f.lineNumber + 1}` : '';
  return `${f.functionName || '(anonymous)'} ${where}`.trim();
};

// Sample weights: timeDeltas[i] is the time before sample i.
const self = new Map();
const incl = new Map();
let total = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  total += dt;
  const k = keyOf(nodes.get(id));
  self.set(k, (self.get(k) ?? 0) + dt);
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const ck = keyOf(nodes.get(cur));
    if (seen.has(ck)) continue;
    seen.add(ck);
    incl.set(ck, (incl.get(ck) ?? 0) + dt);
  }
});

const table = inclusive ? incl : self;
const rows = [...table.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
console.log(
  `${file}: ${(total / 1000).toFixed(0)} ms sampled, ${inclusive ? 'inclusive' : 'self'} time`,
);
for (const [k, us] of rows) {
  console.log(
    `${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`,
  );
}
