import { describe, it } from 'node:test';
import { drillFixture, runDrill } from '../support/drills.js';

// The same drills as for raw TIFFs, on an LZW image with a predictor: the tasks decode and
// encode its strips and an assemble task joins them, and each drill still ends with the CLI's
// exact bytes. The assembler drills keep the master's threads to itself, so a worker joins the
// result: killed before it writes, or after it wrote and before it said so.
const fixture = drillFixture({ compression: 'lzw', predictor: 'horizontal' });

describe('fault tolerance: a compressed TIFF', () => {
  it('worker-kill9', { timeout: 150_000 }, () => runDrill(fixture(), 'worker-kill9'));
  it('assembler-kill9', { timeout: 150_000 }, () => runDrill(fixture(), 'assembler-kill9'));
  it('assembler-crash-after-output', { timeout: 150_000 }, () =>
    runDrill(fixture(), 'assembler-crash-after-output'),
  );
  it('torn-write', { timeout: 150_000 }, () => runDrill(fixture(), 'torn-write'));
  it('wrong-lut', { timeout: 150_000 }, () => runDrill(fixture(), 'wrong-lut'));
  it('master-kill9-each-phase', { timeout: 150_000 }, () =>
    runDrill(fixture(), 'master-kill9-each-phase'),
  );
  it('master-kill9-after-publish', { timeout: 150_000 }, () =>
    runDrill(fixture(), 'master-kill9-after-publish'),
  );
});

// Deflate tiles (edge tiles off the grid: 2000×1500 in 256×256), coded by libdeflate: a worker
// killed mid-task and a master killed in every phase, assembly included, still end exact.
const tiles = drillFixture({ compression: 'deflate', predictor: 'horizontal', tile: true });

describe('fault tolerance: a deflate-tiled TIFF', () => {
  it('worker-kill9', { timeout: 150_000 }, () => runDrill(tiles(), 'worker-kill9'));
  it('master-kill9-each-phase', { timeout: 150_000 }, () =>
    runDrill(tiles(), 'master-kill9-each-phase'),
  );
});
