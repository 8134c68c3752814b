import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { makeFixture, withDrill, type Fixture } from '../../src/chaos/harness.js';
import { seconds } from '../../src/chaos/probes.js';
import { scenario } from '../../src/chaos/scenarios.js';

/**
 * The fault tests run the same drills as `npm run chaos` (src/chaos/): each against its own
 * real cluster, failing with the drill's sentence when a guarantee breaks, and printing the
 * recovery time it measured.
 */
export function drillFixture(tiff?: Parameters<typeof makeFixture>[3]): () => Fixture {
  let dir = '';
  let fixture: Fixture | null = null;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'histeq-faults-'));
    fixture = await makeFixture(dir, undefined, undefined, tiff);
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return () => {
    if (!fixture) throw new Error('fixture not ready');
    return fixture;
  };
}

export async function runDrill(fixture: Fixture, id: string): Promise<void> {
  const s = scenario(id);
  const result = await withDrill(fixture, s.options, (drill) => s.run(drill));
  console.log(
    `recovery: ${result.recoveryLabel} ${seconds(result.recoveryMs)} — ${result.outcome}`,
  );
}
