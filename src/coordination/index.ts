// The coordination layer's public API: one ZooKeeper session per pod, and the recipes on it.
export {
  ZkSession,
  type EphemeralOwnership,
  type ZkSessionEvents,
  type ZkSessionOptions,
  type ZkSessionState,
} from './zk-session.js';
export { ZkMulti, type ZkCreateMode, type ZkData, type ZkOp, type ZkOpResult } from './zk-multi.js';
export {
  ZkError,
  ZK_MAX_REQUEST_BYTES,
  maxDataBytes,
  isAmbiguous,
  isZkError,
  unlessMissing,
  type ZkErrorCode,
  type ZkFailedOp,
} from './zk-errors.js';
export { ephemeralOwnerOf, statLongToHex, statLongToNumber, type ZkStat } from './zk-stat.js';
export {
  waitForCreation,
  waitForDeletion,
  type StopWatching,
  type ZkDataSnapshot,
  type ZkWatchEvent,
  type ZkWatchEventType,
  type ZkWatcher,
} from './zk-watch.js';
export {
  Membership,
  type MemberInfo,
  type MemberRole,
  type MembershipEvents,
  type MembershipOptions,
} from './membership.js';
export {
  LeaderElection,
  sortCandidates,
  type CandidateInfo,
  type LeaderElectionEvents,
  type LeaderElectionOptions,
} from './election.js';
export {
  TaskClaims,
  type Claim,
  type ClaimRecord,
  type ClaimRefusal,
  type DoneRecord,
  type TaskClaimsOptions,
  type TaskResult,
  type TaskSpec,
  type TaskState,
} from './claims.js';
export { parseTaskNode } from './claim-records.js';
