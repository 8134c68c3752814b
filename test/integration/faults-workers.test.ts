import { describe, it } from 'node:test';
import { drillFixture, runDrill } from '../support/drills.js';

// Real pod processes and a real ZooKeeper server; each drill lives in src/chaos/.
const fixture = drillFixture();

describe('fault tolerance: workers', () => {
  it('worker-kill9', { timeout: 150_000 }, () => runDrill(fixture(), 'worker-kill9'));
  it('worker-sigterm', { timeout: 150_000 }, () => runDrill(fixture(), 'worker-sigterm'));
});
