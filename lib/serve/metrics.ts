/**
 * A minimal Prometheus registry (text exposition format 0.0.4): counters and histograms with
 * labels, gauges read when scraped. Written here rather than taken from prom-client because the
 * server needs a few dozen series and no dependency is worth that; the format is a few lines.
 * A series is bound once (`counter.series(labels)`) and then costs an add per request: label
 * text is built when a series is first used, not on every request.
 *
 * The server exports its own `sbert_*` series and, beside them, the `te_*` series that
 * text-embeddings-inference exports under the same names, labels and buckets, so dashboards
 * made for TEI show this server too.
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

/** One counter series (a label set), bound once. */
export interface CounterSeries {
  inc(by?: number): void;
}

/** A monotonically increasing count per label set. */
export class Counter implements Metric {
  private readonly values = new Map<string, { value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  /** The series with these labels (created at 0 on first use). */
  series(labels: Labels = {}): CounterSeries {
    const key = labelText(labels);
    let cell = this.values.get(key);
    if (!cell) {
      cell = { value: 0 };
      this.values.set(key, cell);
    }
    const c = cell;
    return {
      inc: (by = 1) => {
        c.value += by;
      },
    };
  }

  /** Adds `by` (default 1) to the series with these labels. */
  inc(labels: Labels = {}, by = 1): void {
    this.series(labels).inc(by);
  }

  /** The current value of one series (0 when never incremented). */
  get(labels: Labels = {}): number {
    return this.values.get(labelText(labels))?.value ?? 0;
  }

  render(): string {
    let s = header(this.name, this.help, 'counter');
    if (this.values.size === 0) s += `${this.name} 0\n`;
    for (const [key, v] of this.values) s += `${this.name}${key} ${formatValue(v.value)}\n`;
    return s;
  }
}

/** A value read when scraped (queue depth, in-flight requests, a rate; or a counter kept elsewhere, e.g. CPU time). */
export class Gauge implements Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read: () => number,
    private readonly type: 'gauge' | 'counter' = 'gauge',
  ) {}

  render(): string {
    return header(this.name, this.help, this.type) + `${this.name} ${formatValue(this.read())}\n`;
  }
}

/** One histogram series (a label set), bound once. */
export interface HistogramSeries {
  observe(value: number): void;
}

interface HistogramCells {
  labels: Labels;
  /** Observations per bucket (not cumulative; the render sums them). The last cell is +Inf. */
  counts: number[];
  sum: number;
  count: number;
}

/** Cumulative-bucket histogram per label set (`_bucket{le=…}`, `_sum`, `_count`). */
export class Histogram implements Metric {
  private readonly cells = new Map<string, HistogramCells>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {}

  /** The series with these labels. */
  series(labels: Labels = {}): HistogramSeries {
    const key = labelText(labels);
    let cells = this.cells.get(key);
    if (!cells) {
      cells = { labels, counts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0, count: 0 };
      this.cells.set(key, cells);
    }
    const s = cells;
    const buckets = this.buckets;
    return {
      observe: (value: number) => {
        let i = 0;
        while (i < buckets.length && value > buckets[i]) i++;
        s.counts[i]++;
        s.sum += value;
        s.count++;
      },
    };
  }

  /** Records one observation. */
  observe(value: number, labels: Labels = {}): void {
    this.series(labels).observe(value);
  }

  render(): string {
    let out = header(this.name, this.help, 'histogram');
    for (const s of this.cells.values()) {
      let cumulative = 0;
      for (let i = 0; i < this.buckets.length; i++) {
        cumulative += s.counts[i];
        out += `${this.name}_bucket${labelText({ ...s.labels, le: formatValue(this.buckets[i]) })} ${cumulative}\n`;
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
const SENTENCE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048];
/** TEI's duration buckets (router/src/prometheus.rs): 35 steps of × 1.5 from 15 µs. */
const TE_DURATION_BUCKETS = Array.from({ length: 35 }, (_, i) => 0.00001 * 1.5 ** (i + 1));
/** TEI's input-length buckets: powers of two up to the max input length. */
function teInputLengthBuckets(maxInputLength: number): number[] {
  return Array.from({ length: 20 }, (_, i) => 2 ** i).filter((x) => x <= maxInputLength);
}

/** The server's series; the gauges read live state through the callbacks given. */
export function serverMetrics(live: {
  inFlight: () => number;
  queuedRequests: () => number;
  queuedTokens: () => number;
  queuedInputs: () => number;
  maxInputLength: number;
}) {
  const registry = new Registry();
  const tokensWindow = new RateWindow();
  const r = <M extends Metric>(m: M) => registry.register(m);
  return {
    registry,
    tokensWindow,
    requests: r(new Counter('sbert_requests_total', 'HTTP requests answered, by route and status code.')),
    requestDuration: r(new Histogram('sbert_request_duration_seconds', 'Time from a request arriving to its response being written, by route.', LATENCY_BUCKETS)),
    encodeDuration: r(
      new Histogram(
        'sbert_encode_duration_seconds',
        "Time a request's inputs spent in the encoder: waiting in its batch queue behind other requests plus the native calls.",
        LATENCY_BUCKETS,
      ),
    ),
    requestTokens: r(new Histogram('sbert_request_tokens', 'Tokens per admitted request (after truncation, special tokens included).', TOKEN_BUCKETS)),
    requestSentences: r(new Histogram('sbert_request_sentences', 'Inputs (sentences) per admitted request.', SENTENCE_BUCKETS)),
    tokens: r(new Counter('sbert_tokens_total', 'Tokens encoded.')),
    sentences: r(new Counter('sbert_sentences_total', 'Sentences encoded.')),
    rejected: r(new Counter('sbert_rejected_total', 'Requests refused by admission control (429), by limit.')),
    dropped: r(new Counter('sbert_dropped_tokens_total', 'Tokens of requests whose client left, dropped before they reached the engine.')),
    tokensPerSecond: r(new Gauge('sbert_tokens_per_second', 'Tokens encoded per second over the last 10 seconds.', () => tokensWindow.rate())),
    inFlight: r(new Gauge('sbert_in_flight_requests', 'HTTP requests being handled now (any route).', live.inFlight)),
    queuedRequests: r(new Gauge('sbert_queue_requests', 'Admitted encode requests not yet answered.', live.queuedRequests)),
    queuedTokens: r(new Gauge('sbert_queue_tokens', 'Tokens handed to the encoder and not yet answered.', live.queuedTokens)),
    residentMemory: r(new Gauge('process_resident_memory_bytes', 'Resident set size of the server process in bytes.', () => process.memoryUsage.rss())),
    cpuSeconds: r(
      new Gauge(
        'process_cpu_seconds_total',
        'User and system CPU time of the server process (all threads, the engine included) in seconds.',
        () => {
          const u = process.cpuUsage();
          return (u.user + u.system) / 1e6;
        },
        'counter',
      ),
    ),
    // text-embeddings-inference's names (router/src/http/server.rs, core/src/infer.rs).
    te: {
      requestCount: r(new Counter('te_request_count', 'Inference requests received, by method (single input or batch).')),
      requestSuccess: r(new Counter('te_request_success', 'Inference requests answered, by method.')),
      requestFailure: r(new Counter('te_request_failure', 'Inference requests that failed, by cause (validation, batch_size, overloaded, model_type, dropped, inference).')),
      requestDuration: r(new Histogram('te_request_duration', 'Inference request duration in seconds.', TE_DURATION_BUCKETS)),
      tokenizationDuration: r(new Histogram('te_request_tokenization_duration', 'Tokenization time per inference request in seconds.', TE_DURATION_BUCKETS)),
      queueDuration: r(new Histogram('te_request_queue_duration', 'Time an inference request waited for the engine in seconds.', TE_DURATION_BUCKETS)),
      inferenceDuration: r(new Histogram('te_request_inference_duration', 'Engine time of the native calls that carried an inference request, in seconds.', TE_DURATION_BUCKETS)),
      inputLength: r(new Histogram('te_request_input_length', 'Tokens per input (after truncation).', teInputLengthBuckets(live.maxInputLength))),
      queueSize: r(new Gauge('te_queue_size', 'Inputs handed to the encoder and not yet answered.', live.queuedInputs)),
      predictCount: r(new Counter('te_predict_count', 'Inputs (text pairs) handed to the cross-encoder by /rerank and /predict, as TEI counts its predict calls.')),
      predictSuccess: r(new Counter('te_predict_success', 'Inputs (text pairs) the cross-encoder scored.')),
    },
  };
}

export type ServerMetrics = ReturnType<typeof serverMetrics>;
