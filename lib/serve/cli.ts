/**
 * `sbert serve`: loads a model and serves it over HTTP until SIGTERM/SIGINT, then drains the
 * requests in flight and exits 0 (a second signal exits at once with 130). Exit code 2 for bad
 * arguments, 1 when the model cannot be loaded or the port cannot be bound.
 */
import { parseFlags, UsageError } from '../cli-args';
import { SentenceEncoder, type Device, type Precision } from '../encoder';
import { SbertError } from '../errors';
import type { ServeOptions } from './options';
import { createServer } from './server';
import { resolveModelName } from '../default-model';

export const SERVE_USAGE = `Usage: sbert serve --model DIR|default [options]

Serves embeddings over HTTP: POST /embed and /similarity (text-embeddings-inference shapes),
POST /v1/embeddings (OpenAI shape), GET /health, /info, /metrics (Prometheus).

Options:
  --model DIR|default             model folder (sentence-transformers layout); 'default' is the
                                  model bundled in models/default-en
  --host HOST                     address to bind (default 127.0.0.1)
  --port N                        port (default 8080; 0 picks a free one)
  --device auto|cpu|cuda|cuda:N   engine device (default auto)
  --precision fp16|bf16|fp32      GPU storage precision (default fp16)
  --max-batch-tokens N            token budget of one native call, shared by concurrent requests
                                  (default: the encoder's, 8192 on CPU, 65536 on CUDA)
  --max-client-batch-size N       most inputs per request, more → 413 (default 32)
  --max-input-length N            most tokens per input, longer → 413 unless truncated
                                  (default and maximum: the model's max_seq_length)
  --max-concurrent-requests N     encode requests served at once, more → 429 (default 512)
  --max-queue-tokens N            tokens queued in the encoder, more → 429 (default 262144)
  --auto-truncate                 truncate over-length inputs unless a request says truncate: false
  --payload-limit BYTES           largest request body, refused before parsing → 413 (default 2000000)
  --model-id NAME                 model name reported by /info and /v1/embeddings (default: folder name)
`;


function positive(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer (got '${v}')`);
  return n;
}

interface ServeArgs {
  model: string;
  host: string;
  port: number;
  device: Device;
  precision: Precision;
  options: ServeOptions;
}

/** The flags of `sbert serve` (numbers are parsed and checked after parseArgs). */
const SERVE_FLAGS = {
  model: { type: 'string', short: 'm' },
  host: { type: 'string', default: '127.0.0.1' },
  port: { type: 'string', short: 'p', default: '8080' },
  device: { type: 'string', default: 'auto' },
  precision: { type: 'string', default: 'fp16' },
  'max-batch-tokens': { type: 'string' },
  'max-client-batch-size': { type: 'string' },
  'max-input-length': { type: 'string' },
  'max-concurrent-requests': { type: 'string' },
  'max-queue-tokens': { type: 'string' },
  'auto-truncate': { type: 'boolean', default: false },
  'payload-limit': { type: 'string' },
  'model-id': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parseServeArgs(argv: string[]): ServeArgs | 'help' {
  const v = parseFlags(argv, SERVE_FLAGS);
  if (v.help) return 'help';
  if (!v.model) throw new UsageError('--model DIR|default is required');
  const port = Number(v.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be an integer from 0 to 65535 (got '${v.port}')`);
  if (!/^(auto|cpu|cuda(:\d+)?)$/.test(v.device!)) throw new UsageError(`--device must be auto, cpu, cuda or cuda:N (got '${v.device}')`);
  if (!['fp16', 'bf16', 'fp32'].includes(v.precision!)) throw new UsageError(`--precision must be fp16, bf16 or fp32 (got '${v.precision}')`);
  const options: ServeOptions = {
    maxBatchTokens: positive(v['max-batch-tokens'], '--max-batch-tokens'),
    maxClientBatchSize: positive(v['max-client-batch-size'], '--max-client-batch-size'),
    maxInputLength: positive(v['max-input-length'], '--max-input-length'),
    maxConcurrentRequests: positive(v['max-concurrent-requests'], '--max-concurrent-requests'),
    maxQueueTokens: positive(v['max-queue-tokens'], '--max-queue-tokens'),
    payloadLimit: positive(v['payload-limit'], '--payload-limit'),
    autoTruncate: v['auto-truncate'],
    modelId: v['model-id'],
    log: (line) => void process.stderr.write(line + '\n'),
  };
  return { model: resolveModel(v.model), host: v.host!, port, device: v.device as Device, precision: v.precision as Precision, options };
}

/** `default` → the bundled model folder; anything else is a folder path. */
function resolveModel(model: string): string {
  try {
    return resolveModelName(model);
  } catch (err) {
    throw new UsageError(`--model default: ${(err as Error).message}`);
  }
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
  const encoder = await SentenceEncoder.load(args.model, {
    device: args.device,
    precision: args.precision,
    ...(args.options.maxBatchTokens ? { batchTokens: args.options.maxBatchTokens } : {}),
  });
  try {
    let server;
    try {
      server = createServer(encoder, args.options);
    } catch (err) {
      if (err instanceof RangeError || err instanceof TypeError) throw new SbertError('ERR_BAD_DATA', err.message);
      throw err;
    }
    const address = await server.listen(args.port, args.host);
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    process.stdout.write(`sbert serve: ${server.options.modelId} on ${encoder.device}, listening on http://${host}:${address.port}\n`);
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
    encoder.dispose();
  }
}
