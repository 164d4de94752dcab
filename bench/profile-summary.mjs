// Summarises a V8 .cpuprofile (node --cpu-prof) by self time: which functions the process spent
// its CPU in. Idle time is left out of the percentages, so they are shares of busy time.
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function location(frame) {
  if (!frame.url) return '(native)';
  const path = frame.url.startsWith('file://')
    ? relative(ROOT, fileURLToPath(frame.url))
    : frame.url;
  return `${path}:${frame.lineNumber + 1}`;
}

/** Top `limit` entries: { percent, name, location } by self time, idle excluded. */
export function summarizeProfile(profile, limit) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const node = nodes.get(id);
    const dt = profile.timeDeltas[i] ?? 0;
    if (!node || node.callFrame.functionName === '(idle)') return;
    const key = `${node.callFrame.functionName}\u0000${location(node.callFrame)}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    busy += dt;
  });
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([key, t]) => {
      const [name, loc] = key.split('\u0000');
      return { percent: busy ? (t / busy) * 100 : 0, name, location: loc };
    });
}
