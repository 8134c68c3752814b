import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jobStats } from '../../src/jobs/master/job-stats.js';

describe('jobStats', () => {
  it('moves the input counts through the LUT and accumulates both CDFs', () => {
    const hist = new Uint32Array(256);
    hist[10] = 1;
    hist[20] = 3;
    const lut = new Uint8Array(256).map((_, v) => v);
    lut[10] = 0;
    lut[20] = 255;
    const stats = jobStats('j', hist, lut, { width: 2, height: 2, channels: 1, depth: 8 }, 'luma');
    assert.equal(stats.plane, 'grey');
    assert.equal(stats.pixels, 4);
    assert.equal(stats.input[10], 1);
    assert.equal(stats.output[0], 1);
    assert.equal(stats.output[255], 3);
    assert.equal(stats.inputCdf[9], 0);
    assert.equal(stats.inputCdf[10], 0.25);
    assert.equal(stats.inputCdf[255], 1);
    assert.equal(stats.outputCdf[0], 0.25);
  });

  it('folds 16-bit values into 256 bins by their high byte', () => {
    const hist = new Uint32Array(65536);
    hist[0x1234] = 2;
    hist[0x12ff] = 1;
    const lut = new Uint16Array(65536);
    lut[0x1234] = 0xff00;
    lut[0x12ff] = 0xffff;
    const stats = jobStats('j', hist, lut, { width: 3, height: 1, channels: 3, depth: 16 }, 'luma');
    assert.equal(stats.plane, 'luma');
    assert.equal(stats.input.length, 256);
    assert.equal(stats.input[0x12], 3);
    assert.equal(stats.output[0xff], 3);
  });
});
