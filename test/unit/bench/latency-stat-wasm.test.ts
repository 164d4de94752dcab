import { beforeAll, describe, expect } from 'vitest';
import { initFastHistograms } from '../../../src/bench/stats/latency-stat.js';
import { latencyStatCases } from './latency-stat-cases.js';

describe('latency percentiles (WebAssembly histograms)', () => {
  beforeAll(async () => {
    expect(await initFastHistograms()).toBe(true);
  });
  latencyStatCases();
});
