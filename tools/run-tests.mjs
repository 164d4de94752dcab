#!/usr/bin/env node
// `npm test`: every suite in order — tool check, build, typecheck, lint, format, vitest (unit and
// in-process integration), tap (process-level end-to-end with real tools). Prints the totals of all
// suites as the last line, `N passed, N failed, N skipped`, writes it to .test-totals (for .ci/run)
// and exits non-zero on any failure. Under CI=true a missing third-party tool is a failure.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import { ensureTools } from './ensure-tools.mjs';

const totals = { passed: 0, failed: 0, skipped: 0 };
const ci = process.env.CI === 'true' || process.env.CI === '1';
const only = process.argv.slice(2); // e.g. `npm test -- vitest` runs only the named steps

const run = (cmd, args, opts = {}) => {
  const res = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  return res.status === 0;
};
const want = (step) => only.length === 0 || only.includes(step);
const step = (name, ok) => {
  if (ok) totals.passed++;
  else {
    totals.failed++;
    console.error(`✗ ${name} failed`);
  }
};

if (want('tools')) {
  const missing = ensureTools();
  if (missing.length) {
    console.error(
      `missing third-party tools: ${missing.join(', ')}${ci ? '' : ' (suites that need them will fail)'}`,
    );
  }
  step('tools', missing.length === 0);
}
if (want('build')) step('build', run('npx', ['tsc', '-p', 'tsconfig.build.json']));
if (want('typecheck')) step('typecheck', run('npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']));
if (want('lint')) step('lint', run('npx', ['eslint', '.']));
if (want('format')) step('format', run('npx', ['prettier', '--check', '.', '--log-level', 'warn']));

if (want('vitest')) {
  const out = '.vitest-results.json';
  rmSync(out, { force: true });
  const ok = run('npx', [
    'vitest',
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${out}`,
  ]);
  try {
    const r = JSON.parse(readFileSync(out, 'utf8'));
    totals.passed += r.numPassedTests;
    totals.failed += r.numFailedTests + (ok || r.numFailedTests ? 0 : 1);
    totals.skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  } catch {
    totals.failed++;
    console.error('✗ vitest produced no results');
  }
}

if (want('tap')) {
  const res = spawnSync('npx', ['tap', '--reporter=tap'], {
    encoding: 'utf8',
    stdio: ['inherit', 'pipe', 'inherit'],
    maxBuffer: 256 * 1024 * 1024,
  });
  process.stdout.write(res.stdout ?? '');
  const m =
    /# \{ total: \d+(?:, pass: (\d+))?(?:, fail: (\d+))?(?:, [a-z]+: \d+)*?(?:, skip: (\d+))?(?:, [a-z]+: \d+)* \}/.exec(
      res.stdout ?? '',
    );
  if (m) {
    totals.passed += Number(m[1] ?? 0);
    totals.failed += Number(m[2] ?? 0);
    totals.skipped += Number(m[3] ?? 0);
    if (res.status !== 0 && !Number(m[2] ?? 0)) totals.failed++;
  } else if (/# No tests found|no tests found/i.test(res.stdout ?? '') || res.status === 0) {
    // an empty e2e folder is not a failure
  } else {
    totals.failed++;
    console.error('✗ tap produced no summary');
  }
}

const line = `${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`;
writeFileSync('.test-totals', line + '\n');
console.log(line);
process.exit(totals.failed ? 1 : 0);
