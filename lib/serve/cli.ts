/**
 * `sbert serve`: loads a model (and/or a cross-encoder, --reranker) and serves it over HTTP until SIGTERM/SIGINT, then drains the
 * requests in flight and exits 0 (a second signal exits at once with 130). Exit code 2 for bad
 * arguments; 1, with one line saying why, when the server cannot start (the model does not
 * load, the host does not resolve, the port is taken or not allowed).
 */
import { lookup } from 'node:dns/promises';
import { parseDevice, parseFlags, parsePositiveInt, parsePrecision, UsageError } from '../cli-args';
import { CrossEncoder } from '../cross-encoder';
import { SentenceEncoder, type Device, type Precision } from '../encoder';
import { SbertError } from '../errors';
import { modelSource } from '../model-source';
import type { ServeOptions } from './options';
import { createServer } from './server';
import { resolveModelName } from '../default-model';

export const SERVE_USAGE = `Usage: sbert serve [--model DIR|ORG/NAME|default] [--reranker DIR|ORG/NAME] [options]

Serves embeddings over HTTP with the APIs of Hugging Face text-embeddings-inference (POST /embed,
/embed_all, /similarity, /tokenize, /decode, and POST / for the Hugging Face Inference clients)
and of OpenAI (POST /v1/embeddings and /embeddings, GET /v1/models); GET /health, /info, /metrics
(Prometheus), /docs and /api-doc/openapi.json. Without --model (and without --reranker), the
bundled model. --reranker adds a cross-encoder: TEI's POST /rerank and /predict. With --reranker
and no --model, the cross-encoder alone, as TEI serves a reranker (POST / is /rerank, the
embedding routes answer 424); add --model to serve both.

Options:
  --model DIR|ORG/NAME|default    model folder (sentence-transformers layout), a Hugging Face id
                                  from the local cache, or 'default' (the bundled model, also
                                  used when neither --model nor --reranker is given)
  --reranker DIR|ORG/NAME         a cross-encoder (Hugging Face sequence-classification folder
                                  or Hub id, as CrossEncoder.load) for /rerank (one label) and
                                  /predict; on the same --device and --precision
  --reranker-id NAME              the reranker's name in /info and /v1/models beside --model
                                  (default: its folder's name or Hub id)
  --host HOST                     address to bind (default 127.0.0.1; 0.0.0.0 for every interface)
  --port N                        port (default 8080; 0 picks a free one)
  --device auto|cpu|cuda|cuda:N   engine device (default auto)
  --precision P                   what the engine computes in: fp32|int8|bf16 on the CPU
                                  (default fp32), fp16|bf16|fp32 on a GPU (default fp16)
  --api-key KEY                   require Authorization: Bearer KEY (also from $SBERT_API_KEY);
                                  /health, /, /ping, /metrics and the docs stay open
  --cors-allow-origin ORIGIN      origins browsers may call from (repeat, or comma-separate);
                                  default any
  --max-batch-tokens N            token budget of one native call, shared by concurrent requests;
                                  larger requests are streamed in parts of this size
                                  (default: the encoder's, 8192 on CPU, 65536 on CUDA)
  --max-client-batch-size N       most inputs per request on TEI's routes, more → 413 (default 32)
  --max-openai-batch-size N       most inputs per request on /v1/embeddings, more → 413 (default 2048)
  --max-input-length N            most tokens per input, longer → 413 unless truncated, which cuts
                                  there (default and maximum: the model's max_seq_length); of a
                                  reranker served alone, its max length per pair (default: the
                                  tokenizer's model_max_length); beside --model the reranker
                                  keeps its own
  --max-concurrent-requests N     encode requests served at once, more → 429 (default 512)
  --max-queue-tokens N            tokens queued in the encoder, more → 429 (default 262144)
  --auto-truncate                 truncate over-length inputs unless a request says truncate: false
  --payload-limit BYTES           largest request body, refused before parsing → 413 (default 16000000)
  --model-id NAME                 model name reported by /info, /v1/models and /v1/embeddings
                                  (default: the folder's name or Hub id)
`;

interface ServeArgs {
  /** undefined: a reranker served alone. */
  model: string | undefined;
  reranker: string | undefined;
  host: string;
  port: number;
  device: Device;
  /** Undefined: the device's default. */
  precision: Precision | undefined;
  options: ServeOptions;
}

/** The flags of `sbert serve` (numbers are parsed and checked after parseArgs). */
const SERVE_FLAGS = {
  model: { type: 'string', short: 'm' },
  reranker: { type: 'string' },
  'reranker-id': { type: 'string' },
  host: { type: 'string', default: '127.0.0.1' },
  port: { type: 'string', short: 'p', default: '8080' },
  device: { type: 'string' },
  precision: { type: 'string' },
  'api-key': { type: 'string' },
  'cors-allow-origin': { type: 'string', multiple: true },
  'max-batch-tokens': { type: 'string' },
  'max-client-batch-size': { type: 'string' },
  'max-openai-batch-size': { type: 'string' },
  'max-input-length': { type: 'string' },
  'max-concurrent-requests': { type: 'string' },
  'max-queue-tokens': { type: 'string' },
  'auto-truncate': { type: 'boolean', default: false },
  'payload-limit': { type: 'string' },
  'model-id': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** --port: 0 to 65535 in decimal digits. */
function parsePort(value: string): number {
  const n = /^[0-9]{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 0 && n <= 65535)) throw new UsageError(`--port must be an integer from 0 to 65535 in decimal digits (got '${value}')`);
  return n;
}

function parseServeArgs(argv: string[]): ServeArgs | 'help' {
  const v = parseFlags(argv, SERVE_FLAGS);
  if (v.help) return 'help';
  const apiKey = v['api-key'] ?? process.env.SBERT_API_KEY;
  if (apiKey !== undefined && (apiKey.length === 0 || /\s/.test(apiKey))) throw new UsageError('--api-key must be non-empty and without whitespace');
  const origins = v['cors-allow-origin']?.flatMap((o) => o.split(',')).map((o) => o.trim()).filter(Boolean);
  for (const o of origins ?? []) {
    if (o !== '*' && !/^[a-z][a-z0-9+.-]*:\/\/[^/\s]+$/i.test(o)) throw new UsageError(`--cors-allow-origin: '${o}' is not an origin (scheme://host[:port], or *)`);
  }
  const options: ServeOptions = {
    maxBatchTokens: parsePositiveInt(v['max-batch-tokens'], '--max-batch-tokens'),
    maxClientBatchSize: parsePositiveInt(v['max-client-batch-size'], '--max-client-batch-size'),
    maxOpenAIBatchSize: parsePositiveInt(v['max-openai-batch-size'], '--max-openai-batch-size'),
    maxInputLength: parsePositiveInt(v['max-input-length'], '--max-input-length'),
    maxConcurrentRequests: parsePositiveInt(v['max-concurrent-requests'], '--max-concurrent-requests'),
    maxQueueTokens: parsePositiveInt(v['max-queue-tokens'], '--max-queue-tokens'),
    payloadLimit: parsePositiveInt(v['payload-limit'], '--payload-limit'),
    autoTruncate: v['auto-truncate'],
    modelId: v['model-id'],
    rerankerId: v['reranker-id'],
    apiKey,
    corsAllowOrigin: origins && origins.length > 0 ? origins : undefined,
    log: (line) => void process.stderr.write(line + '\n'),
  };
  if (v['reranker-id'] !== undefined && (v.reranker === undefined || v.model === undefined)) {
    throw new UsageError('--reranker-id names a reranker served beside --model; served alone, the reranker is named by --model-id');
  }
  if (v.reranker === '') throw new UsageError('--reranker needs a cross-encoder folder or Hub id');
  return {
    model: v.model === undefined && v.reranker !== undefined ? undefined : resolveModel(v.model ?? 'default'),
    reranker: v.reranker,
    host: v.host!,
    port: parsePort(v.port!),
    device: parseDevice(v.device),
    precision: parsePrecision(v.precision),
    options,
  };
}

/** `default` → the bundled model folder; anything else is a folder path or a Hub id. */
function resolveModel(model: string): string {
  try {
    return resolveModelName(model);
  } catch (err) {
    throw new UsageError(`--model ${model}: ${(err as Error).message}`);
  }
}

/** A start-up failure: printed as one line, exit code 1. */
class StartError extends Error {}

/** The name a model is served under by default: its Hub id, or undefined (the server takes the folder's name). */
function hubId(name: string): string | undefined {
  try {
    const source = modelSource(name);
    return source.kind === 'hub' ? source.id : undefined;
  } catch {
    return undefined; // the load names the problem
  }
}

/** Why listening on host:port failed, in one line. */
function listenFailure(err: NodeJS.ErrnoException, host: string, port: number): StartError {
  const where = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const why: Record<string, string> = {
    EADDRINUSE: 'the port is already in use (another server is listening there; pick another with --port, or --port 0 for a free one)',
    EACCES: 'permission denied (ports below 1024 need privileges; pick a port from 1024 up)',
    EADDRNOTAVAIL: 'the address is not one of this machine\'s (use 127.0.0.1, 0.0.0.0 or an address of this host)',
  };
  return new StartError(`cannot listen on ${where}: ${why[err.code ?? ''] ?? err.message} (${err.code ?? 'error'})`);
}

/** Runs `sbert serve` with `argv` (the arguments after "serve"); resolves to the exit code once the server has stopped. */
export async function runServeCommand(argv: string[]): Promise<number> {
  let args: ServeArgs | 'help';
  try {
    args = parseServeArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`sbert serve: ${err.message}\nRun 'sbert serve --help' for usage.\n`);
      return 2;
    }
    throw err;
  }
  if (args === 'help') {
    process.stdout.write(SERVE_USAGE);
    return 0;
  }
  try {
    return await serve(args);
  } catch (err) {
    if (err instanceof StartError) {
      process.stderr.write(`sbert serve: ${err.message}\n`);
      return 1;
    }
    if (err instanceof SbertError) {
      const what = err instanceof RerankerLoadError ? 'the reranker' : 'the model';
      process.stderr.write(`sbert serve: cannot load ${what}: ${err.code}: ${err.message.split('\n')[0]}\n`);
      return 1;
    }
    throw err;
  }
}

async function serve(args: ServeArgs): Promise<number> {
  // A host that does not resolve fails before the model is loaded.
  try {
    await lookup(args.host);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new StartError(`cannot listen on ${args.host}:${args.port}: '${args.host}' is not an address or a host name that resolves (${code ?? 'error'})`);
  }
  const engine = {
    device: args.device,
    ...(args.precision ? { precision: args.precision } : {}),
    ...(args.options.maxBatchTokens ? { batchTokens: args.options.maxBatchTokens } : {}),
  };
  const options: ServeOptions = { ...args.options };
  if (args.model !== undefined) options.modelId ??= hubId(args.model);
  const encoder = args.model === undefined ? undefined : await SentenceEncoder.load(args.model, engine);
  let reranker: CrossEncoder | undefined;
  try {
    if (args.reranker !== undefined) {
      const maxLength = encoder ? undefined : options.maxInputLength;
      try {
        reranker = await CrossEncoder.load(args.reranker, { ...engine, ...(maxLength !== undefined ? { maxLength } : {}) });
      } catch (err) {
        if (err instanceof SbertError) throw new RerankerLoadError(err);
        if (err instanceof RangeError) throw new StartError(`--reranker ${args.reranker}: ${err.message}`);
        throw err;
      }
      if (encoder) options.rerankerId ??= hubId(args.reranker);
      else options.modelId ??= hubId(args.reranker);
      if (!encoder) delete options.maxInputLength; // the reranker was loaded with it
    }
  } catch (err) {
    encoder?.dispose();
    throw err;
  }
  try {
    let server;
    try {
      server = createServer({ encoder, reranker }, options);
    } catch (err) {
      if (err instanceof RangeError || err instanceof TypeError) throw new StartError(err.message);
      throw err;
    }
    let address;
    try {
      address = await server.listen(args.port, args.host);
    } catch (err) {
      throw listenFailure(err as NodeJS.ErrnoException, args.host, args.port);
    }
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const serving = encoder
      ? `${server.options.modelId} on ${encoder.device}${reranker ? ` and reranker ${server.options.rerankerId} on ${reranker.device}` : ''}`
      : `reranker ${server.options.modelId} on ${reranker!.device}`;
    process.stdout.write(`sbert serve: ${serving}, listening on http://${host}:${address.port}\n`);
    await new Promise<void>((resolve) => {
      const onSignal = (signal: NodeJS.Signals) => {
        process.stderr.write(`sbert serve: ${signal}: finishing requests in flight, then exiting (send it again to exit now)\n`);
        process.once(signal, () => process.exit(130));
        process.off(signal === 'SIGINT' ? 'SIGTERM' : 'SIGINT', onSignal);
        void server.close().then(resolve);
      };
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
    });
    process.stderr.write('sbert serve: stopped\n');
    return 0;
  } finally {
    encoder?.dispose();
    reranker?.dispose();
  }
}

/** A cross-encoder that did not load: reported as "cannot load the reranker", with its code. */
class RerankerLoadError extends SbertError {
  constructor(err: SbertError) {
    super(err.code, err.message);
  }
}
