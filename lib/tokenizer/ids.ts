/** A growable Int32Array of token ids that pipelines and models append to. */
export class IdBuffer {
  out: Int32Array = new Int32Array(4096);
  n = 0;

  reserve(extra: number): void {
    if (this.n + extra <= this.out.length) return;
    let cap = this.out.length * 2;
    while (cap < this.n + extra) cap *= 2;
    const o = new Int32Array(cap);
    o.set(this.out.subarray(0, this.n));
    this.out = o;
  }

  push(id: number): void {
    if (this.n === this.out.length) this.reserve(1);
    this.out[this.n++] = id;
  }

  pushAll(ids: Int32Array): void {
    this.reserve(ids.length);
    this.out.set(ids, this.n);
    this.n += ids.length;
  }

  /** Drop a buffer grown large by one huge input. */
  shrink(): void {
    if (this.out.length > 1 << 22) this.out = new Int32Array(4096);
  }
}

/** A bounded string -> ids cache (words repeat; their ids do not change). */
export class IdsCache {
  private map = new Map<string, Int32Array>();
  constructor(private readonly maxEntries = 1 << 16) {}

  get(key: string): Int32Array | undefined {
    return this.map.get(key);
  }

  set(key: string, ids: Int32Array): void {
    if (key.length > 256) return;
    if (this.map.size >= this.maxEntries) this.map = new Map();
    this.map.set(key, ids);
  }
}
