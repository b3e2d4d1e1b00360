/**
 * A portal's tick: the one BullMQ job per portal that sends its next batch. Deduplicated by its
 * job id, so adding it again while it waits, is delayed or runs does nothing.
 */
import { Job, type Queue } from 'bullmq';
import { tickJobId } from './keys.js';

/** What a tick job carries. */
export interface TickData {
  portalId: string;
}

/**
 * Make sure `portalId` has a tick. Finished ticks are removed (completed or failed), so a later
 * add is never blocked by an old record.
 */
export async function addTick(queue: Queue, portalId: string): Promise<void> {
  await queue.add('tick', { portalId } satisfies TickData, {
    jobId: tickJobId(portalId),
    removeOnComplete: true,
    removeOnFail: true,
  });
}

/** {@link addTick} for many portals in one round trip (a pipeline: each add stands alone). */
export async function addTicks(queue: Queue, portalIds: readonly string[]): Promise<void> {
  await queue.addBulk(
    portalIds.map((portalId) => ({
      name: 'tick',
      data: { portalId } satisfies TickData,
      opts: { jobId: tickJobId(portalId), removeOnComplete: true, removeOnFail: true },
    })),
  );
}

/** If the portal's tick is delayed (waiting for a retry's back-off), run it now. */
export async function promoteTick(queue: Queue, portalId: string): Promise<void> {
  const job = await Job.fromId(queue, tickJobId(portalId));
  if (!job) return;
  try {
    if (await job.isDelayed()) await job.promote();
  } catch {
    // It moved on meanwhile (ran, finished): nothing to promote.
  }
}
