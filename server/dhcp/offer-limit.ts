// The cap on new pool offers: a token bucket per served subnet. A rack powering on at once fits in the burst;
// a flood of made-up MACs gets the steady rate and no more, so it can neither drain the pool nor churn it faster
// than real clients answer their offers. Offers of a reservation, or of the address a MAC already holds, are free.
export interface OfferLimitSettings {
  perSecond: number;
  burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class OfferLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly settings: OfferLimitSettings,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one offer from the subnet's allowance; false when it is used up for now. */
  take(subnet: string): boolean {
    const now = this.now();
    let bucket = this.buckets.get(subnet);
    if (!bucket) this.buckets.set(subnet, (bucket = { tokens: this.settings.burst, at: now }));
    bucket.tokens = Math.min(this.settings.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.settings.perSecond);
    bucket.at = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}
