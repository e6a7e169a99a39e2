/**
 * A minimal Prometheus registry (text exposition format 0.0.4): counters and histograms with
 * labels, gauges read when scraped. Written here rather than taken from prom-client because the
 * server needs a dozen series and no dependency is worth that; the format is a few lines.
 */

type Labels = Record<string, string>;

function labelText(labels: Labels): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return '';
  return '{' + keys.map((k) => `${k}="${labels[k].replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',') + '}';
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

interface Metric {
  render(): string;
}

function header(name: string, help: string, type: string): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`;
}

/** A monotonically increasing count per label set. */
export class Counter implements Metric {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  /** Adds `by` (default 1) to the series with these labels. */
  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }

  /** The current value of one series (0 when never incremented). */
  get(labels: Labels = {}): number {
    return this.values.get(labelText(labels)) ?? 0;
  }

  render(): string {
    let s = header(this.name, this.help, 'counter');
    if (this.values.size === 0) s += `${this.name} 0\n`;
    for (const [key, v] of this.values) s += `${this.name}${key} ${formatValue(v)}\n`;
    return s;
  }
}

/** A value read when scraped (queue depth, in-flight requests, a rate). */
export class Gauge implements Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read: () => number,
  ) {}

  render(): string {
    return header(this.name, this.help, 'gauge') + `${this.name} ${formatValue(this.read())}\n`;
  }
}

/** Cumulative-bucket histogram per label set (`_bucket{le=…}`, `_sum`, `_count`). */
export class Histogram implements Metric {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {}

  /** Records one observation. */
  observe(value: number, labels: Labels = {}): void {
    const key = labelText(labels);
    let s = this.series.get(key);
    if (!s) {
      s = { labels, counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]) s.counts[i]++;
    s.sum += value;
    s.count++;
  }

  render(): string {
    let out = header(this.name, this.help, 'histogram');
    for (const s of this.series.values()) {
      for (let i = 0; i < this.buckets.length; i++) {
        out += `${this.name}_bucket${labelText({ ...s.labels, le: formatValue(this.buckets[i]) })} ${s.counts[i]}\n`;
      }
      out += `${this.name}_bucket${labelText({ ...s.labels, le: '+Inf' })} ${s.count}\n`;
      out += `${this.name}_sum${labelText(s.labels)} ${formatValue(s.sum)}\n`;
      out += `${this.name}_count${labelText(s.labels)} ${s.count}\n`;
    }
    return out;
  }
}

/** Events per second over a sliding window of whole seconds (for a tokens/s gauge). */
export class RateWindow {
  private readonly slots: number[];
  private readonly stamps: number[];
  constructor(
    private readonly seconds = 10,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.slots = new Array<number>(seconds).fill(0);
    this.stamps = new Array<number>(seconds).fill(-1);
  }

  /** Counts `n` events now. */
  add(n: number): void {
    const sec = Math.floor(this.now() / 1000);
    const i = sec % this.seconds;
    if (this.stamps[i] !== sec) {
      this.stamps[i] = sec;
      this.slots[i] = 0;
    }
    this.slots[i] += n;
  }

  /** Mean events per second over the last `seconds` whole seconds (the current one excluded). */
  rate(): number {
    const sec = Math.floor(this.now() / 1000);
    let total = 0;
    for (let i = 0; i < this.seconds; i++) {
      const age = sec - this.stamps[i];
      if (age >= 1 && age <= this.seconds) total += this.slots[i];
    }
    return total / this.seconds;
  }
}

/** Renders metrics in registration order as one Prometheus text page. */
export class Registry {
  private readonly metrics: Metric[] = [];

  /** Adds a metric and returns it. */
  register<M extends Metric>(m: M): M {
    this.metrics.push(m);
    return m;
  }

  /** The exposition text (Content-Type `text/plain; version=0.0.4`). */
  render(): string {
    return this.metrics.map((m) => m.render()).join('');
  }
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const TOKEN_BUCKETS = [8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384];
const SENTENCE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];

/** The server's series; the gauges read live state through the callbacks given. */
export function serverMetrics(live: { inFlight: () => number; queuedRequests: () => number; queuedTokens: () => number }) {
  const registry = new Registry();
  const tokensWindow = new RateWindow();
  return {
    registry,
    tokensWindow,
    requests: registry.register(new Counter('sbert_requests_total', 'HTTP requests answered, by route and status code.')),
    requestDuration: registry.register(
      new Histogram('sbert_request_duration_seconds', 'Time from a request arriving to its response being written, by route.', LATENCY_BUCKETS),
    ),
    encodeDuration: registry.register(
      new Histogram(
        'sbert_encode_duration_seconds',
        "Time a request's inputs spent in the encoder: waiting in its batch queue behind other requests plus the native calls.",
        LATENCY_BUCKETS,
      ),
    ),
    requestTokens: registry.register(new Histogram('sbert_request_tokens', 'Tokens per admitted request (after truncation, special tokens included).', TOKEN_BUCKETS)),
    requestSentences: registry.register(new Histogram('sbert_request_sentences', 'Inputs (sentences) per admitted request.', SENTENCE_BUCKETS)),
    tokens: registry.register(new Counter('sbert_tokens_total', 'Tokens encoded.')),
    sentences: registry.register(new Counter('sbert_sentences_total', 'Sentences encoded.')),
    rejected: registry.register(new Counter('sbert_rejected_total', 'Requests refused by admission control (429), by limit.')),
    tokensPerSecond: registry.register(new Gauge('sbert_tokens_per_second', 'Tokens encoded per second over the last 10 seconds.', () => tokensWindow.rate())),
    inFlight: registry.register(new Gauge('sbert_in_flight_requests', 'HTTP requests being handled now (any route).', live.inFlight)),
    queuedRequests: registry.register(new Gauge('sbert_queue_requests', 'Admitted encode requests not yet answered.', live.queuedRequests)),
    queuedTokens: registry.register(new Gauge('sbert_queue_tokens', 'Tokens handed to the encoder and not yet answered.', live.queuedTokens)),
    residentMemory: registry.register(new Gauge('process_resident_memory_bytes', 'Resident set size of the server process in bytes.', () => process.memoryUsage.rss())),
  };
}

export type ServerMetrics = ReturnType<typeof serverMetrics>;
