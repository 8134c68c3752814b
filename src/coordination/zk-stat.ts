import type { Stat } from 'node-zookeeper-client';

/** A znode's metadata as the library returns it; 64-bit fields are 8-byte big-endian Buffers. */
export type ZkStat = Stat;

/** Hex form of a stat long (ephemeralOwner, czxid…), comparable with `ZkSession.sessionId`. */
export function statLongToHex(value: Buffer): string {
  return value.toString('hex');
}

/** Numeric form of a stat long; ctime/mtime are milliseconds since the epoch (server clock). */
export function statLongToNumber(value: Buffer): number {
  return Number(value.readBigInt64BE(0));
}

const NO_OWNER = '0000000000000000';

/** The owning session of an ephemeral node, or null for a persistent one. */
export function ephemeralOwnerOf(stat: ZkStat): string | null {
  const owner = statLongToHex(stat.ephemeralOwner);
  return owner === NO_OWNER ? null : owner;
}
