import { describe, it } from 'node:test';
import { drillFixture, runDrill } from '../support/drills.js';

// JPEG-compressed strips are decoded and re-encoded by the tasks with libjpeg, which is
// deterministic: a killed worker's rerun and a torn band's re-run still end with the CLI's
// exact bytes, and the result check catches the torn band though the codec is lossy.
const fixture = drillFixture({ compression: 'jpeg', quality: 80 });

describe('fault tolerance: a JPEG-compressed TIFF', () => {
  it('worker-kill9', { timeout: 150_000 }, () => runDrill(fixture(), 'worker-kill9'));
  it('torn-write', { timeout: 150_000 }, () => runDrill(fixture(), 'torn-write'));
  it('wrong-lut', { timeout: 150_000 }, () => runDrill(fixture(), 'wrong-lut'));
});
