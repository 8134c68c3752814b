import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrontDoor } from '../../src/local/front-door.js';
import { testLogger } from './zk.js';

/**
 * A front door whose registry names `url` as the master pod-1's, as a launcher's registry
 * would (written atomically); `close` stops the door and removes the registry.
 */
export async function frontDoorTo(
  url: string,
  options: { cacheMs?: number } = {},
): Promise<{ door: FrontDoor; close(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'histeq-door-'));
  const registry = join(dir, 'master.json');
  const record = { pod: 'pod-1', url, pid: process.pid, since: new Date().toISOString() };
  await writeFile(`${registry}.tmp`, JSON.stringify(record));
  await rename(`${registry}.tmp`, registry);
  const door = await FrontDoor.start({
    registryPath: registry,
    port: 0,
    ...options,
    logger: testLogger('front-door', 'front-door'),
  });
  return {
    door,
    close: async () => {
      await door.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
