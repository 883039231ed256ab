#!/usr/bin/env node
// How long VS Code spends loading the extension before activate() runs: `require('dist/client.js')`
// in a fresh Node process (vscode stubbed; the bundle touches it only inside activate()), median
// of N runs, against a same-run baseline (a fresh process requiring an empty module). activate()
// itself is timed by the extension (TestApi.activationMs, printed by the VS Code suite).
// Usage: npm run build && node bench/client-activation.mjs [runs=15]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const runs = Number(process.argv[2] ?? 15);
const bundle = resolve('dist/client.js');
const scratch = mkdtempSync(join(tmpdir(), 'glk-bench-'));
const empty = join(scratch, 'empty.js');
writeFileSync(empty, '');
const probe = (file) => `
const Module = require('module'); const load = Module._load;
Module._load = function (request, ...rest) { return request === 'vscode' ? {} : load.call(this, request, ...rest); };
const started = performance.now(); require(${JSON.stringify(file)}); process.stdout.write(String(performance.now() - started));`;

function median(file) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const result = spawnSync(process.execPath, ['-e', probe(file)], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(result.stderr);
    times.push(Number(result.stdout));
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

try {
  const baseline = median(empty);
  const client = median(bundle);
  console.log(`dist/client.js: ${(statSync(bundle).size / 1024).toFixed(0)} KiB`);
  console.log(`load (median of ${runs}): ${client.toFixed(1)} ms; same-run baseline, an empty module: ${baseline.toFixed(1)} ms; difference ${(client - baseline).toFixed(1)} ms`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
