// buildInfo() and cudaDevices(): the shape issue #2 promises, on any machine.
'use strict';
const { test } = require('uvu');
const assert = require('uvu/assert');
const { buildInfo, cudaDevices } = require('../dist');

test('buildInfo() reports version, CUDA and CPU', () => {
  const info = buildInfo();
  assert.is(info.version, require('../package.json').version);
  assert.type(info.cuda.compiled, 'boolean');
  if (info.cuda.compiled) {
    assert.ok(info.cuda.runtimeVersion >= 11000, `runtimeVersion ${info.cuda.runtimeVersion}`);
  } else {
    assert.is(info.cuda.runtimeVersion, undefined);
  }
  assert.ok(info.cpu.threads >= 1);
  assert.type(info.cpu.avx2, 'boolean');
  assert.type(info.cpu.gemmKernel, 'string');
  assert.ok(info.addonPath.endsWith('.node'));
});

test('cudaDevices() never throws and lists well-formed devices', () => {
  const devices = cudaDevices();
  assert.ok(Array.isArray(devices));
  for (const d of devices) {
    assert.type(d.name, 'string');
    assert.match(d.computeCapability, /^\d+\.\d+$/);
    assert.ok(d.totalMemory > 0);
  }
  if (!buildInfo().cuda.compiled) assert.is(devices.length, 0);
});

test.run();
