import { describe } from 'vitest';
import { latencyStatCases } from './latency-stat-cases.js';

describe('latency percentiles (JS histograms)', () => {
  latencyStatCases();
});
