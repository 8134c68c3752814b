import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { previewName, statsName } from '../jobs/master/job-previews.js';

/** Which of a job's dashboard files exist yet (they appear during equalizing, before `done`). */
export interface ArtifactPresence {
  previews: boolean;
  stats: boolean;
}

export async function artifactPresence(sharedDir: string, id: string): Promise<ArtifactPresence> {
  const results = join(sharedDir, 'results');
  const has = (name: string) =>
    access(join(results, name)).then(
      () => true,
      () => false,
    );
  const [input, output, stats] = await Promise.all([
    has(previewName(id, 'in')),
    has(previewName(id, 'out')),
    has(statsName(id)),
  ]);
  return { previews: input && output, stats };
}
