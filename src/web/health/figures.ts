import { z } from 'zod';

/**
 * One pod's health figures at one moment (the pod reads them from its own Prometheus registry,
 * pod/pod-figures.ts). Counters are totals since the pod started; the master turns them into
 * rates between samples (cluster-history.ts).
 */
export const podFiguresSchema = z.object({
  pod: z.string().min(1).max(253),
  /** When the figures were read, in the pod's clock (ms since the epoch). */
  at: z.number(),
  tasks: z.object({ done: z.number().min(0), failed: z.number().min(0) }),
  /** Sum (seconds) and count of successful task durations, for a mean per interval. */
  taskSeconds: z.object({ sum: z.number().min(0), count: z.number().min(0) }),
  /** Pixels of the strips this pod equalized: the throughput it contributed. */
  equalizedPixels: z.number().min(0),
  pool: z.object({
    threads: z.number().min(0),
    busy: z.number().min(0),
    queued: z.number().min(0),
  }),
  /** The event loop's 99th-percentile delay since the previous reading, in ms. */
  eventLoopDelayMs: z.number().min(0),
  rssBytes: z.number().min(0),
  heapUsedBytes: z.number().min(0),
  /** The session's state, and one ZooKeeper round trip at reading time (null: no answer). */
  zk: z.object({ state: z.string().max(32), roundTripMs: z.number().min(0).nullable() }),
});

export type PodFigures = z.infer<typeof podFiguresSchema>;
