/**
 * The optimizer-step schedule of sentence-transformers' `fit`: transformers'
 * get_linear_schedule_with_warmup (the learning rate rises linearly from 0 over the warm-up
 * steps, then falls linearly to 0 at the last step; the first step runs at 0), and the seeded
 * example order of each epoch.
 */

/**
 * transformers' get_linear_schedule_with_warmup: the learning rate of optimizer step `step`
 * (0-based) out of `totalSteps`, with `warmupSteps` of warm-up.
 */
export function linearWarmupLr(baseLr: number, step: number, warmupSteps: number, totalSteps: number): number {
  if (step < warmupSteps) return (baseLr * step) / Math.max(1, warmupSteps);
  return baseLr * Math.max(0, (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
}

/** Warm-up steps for a ratio of the total, rounded up (sentence-transformers' fit examples: ceil(0.1 × steps)). */
export function warmupStepsFor(totalSteps: number, warmupRatio: number): number {
  return Math.ceil(totalSteps * warmupRatio);
}

/**
 * A small seeded generator (SplitMix32-style mixing of a Weyl sequence): the same seed gives
 * the same shuffles on every platform. Not torch's generator: batches cannot match PyTorch's
 * shuffled order, only our own across runs.
 */
export class SeededRandom {
  private state: number;
  constructor(seed: number) {
    this.state = (Math.floor(seed) ^ 0x9e3779b9) >>> 0;
  }
  /** A uniform integer in [0, 2^32). */
  nextUint32(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  }
  /** A uniform integer in [0, n) (n ≤ 2^32), without modulo bias. */
  below(n: number): number {
    const limit = 0x100000000 - (0x100000000 % n);
    for (;;) {
      const x = this.nextUint32();
      if (x < limit) return x % n;
    }
  }
}

/** The example order of one epoch: 0..n-1, Fisher–Yates shuffled by `rng` when given. */
export function epochOrder(n: number, rng?: SeededRandom): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (rng) {
    for (let i = n - 1; i > 0; i--) {
      const j = rng.below(i + 1);
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
  }
  return order;
}
