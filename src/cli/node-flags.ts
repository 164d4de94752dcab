/**
 * The Node.js (V8) flags the data-path processes, nvmf-target and nvmf-dpu, run with. V8 reads
 * heap sizes only at start-up, so they cannot be set from inside the process: bin/nvmf-target.js
 * and bin/nvmf-dpu.js carry them on their `#!` line, and every place that starts those commands
 * with `node` (nvmf-farm's nodes, `npm start`, the bench scripts) passes these.
 *
 * Why a fixed old generation: V8 sizes the old generation's allocation limit from what survived
 * the last Mark-Compact (about 10 MB in these processes), and starts incremental marking as soon
 * as the room left below that limit is smaller than the young generation — which, at a data
 * path's allocation rate, grows to its 16 MB maximum. A mirror DPU at queue depth 32 then ran a
 * Mark-Compact every ~110 ms (43–51 per 5 s, each a 2–9 ms pause plus background marking on the
 * other core) while holding ~10 MB. With 128 MiB the limit stays far above the live heap (V8 keeps
 * the configured size as its floor), and the DPU ran 0–1 Mark-Compacts per 5 s, also after a
 * forced full GC (bench/RESULTS.md and the issue 4 notes have the figures). The heap still starts
 * small; only garbage can fill the difference, and scavenges collect nearly all of it.
 */
export const DATA_PATH_NODE_FLAGS: readonly string[] = ['--initial-old-space-size=128'];

/** The `#!` line of a data-path command's bin script: `env -S` passes the flags to node. */
export const DATA_PATH_SHEBANG = `#!/usr/bin/env -S node ${DATA_PATH_NODE_FLAGS.join(' ')}`;
