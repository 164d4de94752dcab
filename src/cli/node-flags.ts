/**
 * The Node.js (V8) flags the data-path processes, nvmf-target and nvmf-dpu, run with. V8 reads
 * heap sizes only at start-up, so they cannot be set from inside the process: bin/nvmf-target.js
 * and bin/nvmf-dpu.js carry them on their `#!` line, and every place that starts those commands
 * with `node` (nvmf-farm's nodes, `npm start`, the bench scripts, the e2e rigs) passes these, and
 * DATA_PATH_ENV below in the environment.
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

/**
 * glibc malloc settings in the data-path processes' environment (mallopt(3): read at start-up,
 * ignored by other C libraries). A PDU larger than the 64 KiB socket read buffers is assembled in a
 * buffer of its own, and with glibc's defaults every such buffer (128 KiB and up: mmap; below: a
 * heap top trimmed after each burst of frees) came from fresh pages: in `perf` of a memory node
 * serving 128 KiB writes, page faults under the socket read (a sixth of its time) and sysmalloc
 * were the largest items after the copies themselves. Buffers up to 4 MiB (MDTS, 1 MiB, is smaller)
 * now come from the heap, and up to 64 MiB of freed heap stays mapped for the next ones. fio
 * 128 KiB write QD8 on a 3-way mirror, interleaved pairs with and without: memory nodes 2 576 vs
 * 1 115 and 1 805 vs 1 546 IOPS (the nodes' CPU per write 302 vs 938 and 459 vs 576 µs); file nodes
 * 2 296 vs 878, 1 898 vs 975, 2 524 vs 966 (nodes 337–444 vs 1 206–1 346 µs, the DPU 206–290 vs
 * 335–401). 4 KiB randwrite QD32 on file nodes did not move beyond the machine's noise: 10 pairs,
 * −7 to +14 %, the second run of a pair the faster one in 7 of them whichever it was.
 */
export const DATA_PATH_ENV: Readonly<Record<string, string>> = {
  MALLOC_MMAP_THRESHOLD_: String(4 * 1024 * 1024),
  MALLOC_TRIM_THRESHOLD_: String(64 * 1024 * 1024),
};

/**
 * `base` (default: this process's environment) with DATA_PATH_ENV, for spawning a data-path
 * command.
 */
export const dataPathEnv = (base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv => ({
  ...base,
  ...DATA_PATH_ENV,
});

/**
 * The `#!` line of a data-path command's bin script: `env -S` sets DATA_PATH_ENV and passes the
 * flags to node.
 */
export const DATA_PATH_SHEBANG = `#!/usr/bin/env -S ${Object.entries(DATA_PATH_ENV)
  .map(([k, v]) => `${k}=${v}`)
  .join(' ')} node ${DATA_PATH_NODE_FLAGS.join(' ')}`;
