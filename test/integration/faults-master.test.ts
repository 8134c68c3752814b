import { describe, it } from 'node:test';
import { drillFixture, runDrill } from '../support/drills.js';

// Real pod processes and a real ZooKeeper server; each drill lives in src/chaos/.
const fixture = drillFixture();

describe('fault tolerance: master', () => {
  it('master-kill9-each-phase', { timeout: 150_000 }, () =>
    runDrill(fixture(), 'master-kill9-each-phase'),
  );
  it('master-kill9-after-publish', { timeout: 150_000 }, () =>
    runDrill(fixture(), 'master-kill9-after-publish'),
  );
  it('master-sigterm', { timeout: 150_000 }, () => runDrill(fixture(), 'master-sigterm'));
  it('master-sigstop', { timeout: 150_000 }, () => runDrill(fixture(), 'master-sigstop'));
});
