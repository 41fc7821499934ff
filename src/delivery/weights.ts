import type { Logger } from '../logger.ts';
import { tenantOfLane } from '../queue/boss.ts';
import { deliveryWeights } from '../store/tenants.ts';

/** How often a worker reads its tenants' weights again (an operator's change takes this long). */
const REFRESH_MS = 10_000;

/**
 * The delivery weights of the tenants whose lanes this worker serves: 1 until read, then
 * what the operator set, read again every REFRESH_MS (in one statement for all of them).
 */
export class LaneWeights {
  private readonly known = new Map<string, number>();
  private readAt = 0;
  private reading: Promise<void> | undefined;

  constructor(private readonly log: Logger) {}

  of(lane: string): number {
    const weight = this.known.get(lane);
    if (weight === undefined) this.known.set(lane, 1);
    if (weight === undefined || Date.now() - this.readAt > REFRESH_MS) void this.read();
    return weight ?? 1;
  }

  private read(): Promise<void> {
    this.reading ??= (async () => {
      this.readAt = Date.now();
      const lanes = [...this.known.keys()];
      const tenants = lanes.map(tenantOfLane).filter((t): t is string => t !== null);
      try {
        const weights = await deliveryWeights(tenants);
        for (const lane of lanes) {
          const tenant = tenantOfLane(lane);
          this.known.set(lane, (tenant && weights.get(tenant)) || 1);
        }
      } catch (error) {
        this.log.warn({ err: error }, "could not read tenants' delivery weights; keeping those known");
      } finally {
        this.reading = undefined;
      }
    })();
    return this.reading;
  }
}
