import { containHandler } from '../../runtime/contain/index';
import { ecsFindingEvent, type ResponseWorld } from './response-world';

/**
 * A storm of findings: for each site, `distinct` findings plus repeats (the same finding
 * delivered again with the same count, then with a bigger and a smaller count: out of
 * order), shuffled, delivered `concurrency` at a time. Deterministic for a given seed.
 */
export interface StormPlan {
  readonly events: { site: string; findingId: string; count: number; event: unknown }[];
  /** The largest count per finding id. */
  readonly maxCount: Map<string, number>;
}

export function planStorm(world: ResponseWorld, sites: readonly string[], total: number, seed = 42): StormPlan {
  let state = seed;
  const random = () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
  const perSite = Math.max(3, Math.floor(total / sites.length));
  const events: StormPlan['events'] = [];
  const maxCount = new Map<string, number>();
  for (const site of sites) {
    const distinct = Math.max(1, perSite - 2);
    for (let i = 0; i < distinct; i++) {
      const findingId = `storm-${site}-${i}`;
      events.push({ site, findingId, count: 1, event: undefined });
      maxCount.set(findingId, 1);
    }
    // A duplicate, and out-of-order repeats of the first finding.
    const first = `storm-${site}-0`;
    const repeats = [3, 2];
    for (let r = 0; r < perSite - distinct; r++) {
      const count = repeats[r % repeats.length] as number;
      events.push({ site, findingId: first, count, event: undefined });
      maxCount.set(first, Math.max(maxCount.get(first) ?? 0, count));
    }
  }
  for (let i = events.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [events[i], events[j]] = [events[j] as StormPlan['events'][number], events[i] as StormPlan['events'][number]];
  }
  return {
    events: events.slice(0, total).map((e) => ({
      ...e,
      event: ecsFindingEvent(world, e.site, { findingId: e.findingId, count: e.count, withTaskTags: true }),
    })),
    maxCount,
  };
}

/** Delivers the storm `concurrency` events at a time; returns how many handler calls threw. */
export async function deliverStorm(plan: StormPlan, concurrency: number): Promise<{ threw: number }> {
  let threw = 0;
  for (let i = 0; i < plan.events.length; i += concurrency) {
    await Promise.all(
      plan.events.slice(i, i + concurrency).map((e) =>
        containHandler(e.event).catch(() => {
          threw++;
        }),
      ),
    );
  }
  return { threw };
}
