import { describe, it } from 'node:test';
import { drillFixture, runDrill } from '../support/drills.js';

// Real pod processes and a real ZooKeeper server; each drill lives in src/chaos/.
const fixture = drillFixture();

describe('fault tolerance: zookeeper', () => {
  it('zk-restart', { timeout: 150_000 }, () => runDrill(fixture(), 'zk-restart'));
  it('zk-down-past-timeout', { timeout: 150_000 }, () =>
    runDrill(fixture(), 'zk-down-past-timeout'),
  );
});
