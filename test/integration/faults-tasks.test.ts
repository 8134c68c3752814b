import { describe, it } from 'node:test';
import { drillFixture, runDrill } from '../support/drills.js';

// Real pod processes and a real ZooKeeper server; each drill lives in src/chaos/.
const fixture = drillFixture();

describe('fault tolerance: tasks', () => {
  it('crash-after-output', { timeout: 150_000 }, () => runDrill(fixture(), 'crash-after-output'));
  it('poison-task', { timeout: 150_000 }, () => runDrill(fixture(), 'poison-task'));
  it('slow-task', { timeout: 150_000 }, () => runDrill(fixture(), 'slow-task'));
  it('wrong-lut', { timeout: 150_000 }, () => runDrill(fixture(), 'wrong-lut'));
  it('torn-write', { timeout: 150_000 }, () => runDrill(fixture(), 'torn-write'));
});
