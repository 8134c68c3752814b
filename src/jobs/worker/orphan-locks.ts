import { isZkError, type ZkSession } from '../../coordination/index.js';

/**
 * Removes task locks that our current session holds although this pod is not running the task.
 * They appear when the connection drops while a claim or a release is in flight: the server may
 * have applied the request, but we never heard back. Our session survives a short outage, so
 * such a lock would otherwise block its task until TASK_TIMEOUT_MS. Returns the tasks freed.
 */
export async function releaseOrphanLocks(
  session: ZkSession,
  taskPaths: readonly string[],
): Promise<string[]> {
  const freed: string[] = [];
  for (const task of taskPaths) {
    const lockPath = `${task}/lock`;
    const stat = await session.exists(lockPath);
    if (!stat || session.ownership(stat) !== 'current') continue;
    try {
      await session.remove(lockPath, stat.version);
      freed.push(task);
    } catch (err) {
      if (!isZkError(err, 'NO_NODE', 'BAD_VERSION')) throw err;
    }
  }
  return freed;
}
