/**
 * `sbert download org/name`: fetches a model into the shared Hugging Face cache with a progress
 * bar (bytes and rate on stderr) and prints the snapshot folder on stdout, so
 * `sbert encode --model "$(sbert download org/name)"` works.
 */
import { parseArgs } from 'node:util';
import { usageErrorText } from '../cli-args';
import { ProgressBar } from '../progress';
import { downloadModel, isRepoId } from './download';
import type { DownloadProgress } from './settings';

export const DOWNLOAD_USAGE = `Usage: sbert download ORG/NAME [--revision REV] [--cache-dir DIR] [--token TOKEN]
                      [--offline] [--no-progress]
  Downloads the files a sentence-transformers model needs (configs, tokenizer, weights; never
  onnx/ or openvino/) into the Hugging Face cache shared with Python (HF_HUB_CACHE, HF_HOME),
  and prints the snapshot folder. Token: --token, else HF_TOKEN, else \`huggingface-cli login\`'s.
`;

/** Bytes as B / kB / MB / GB (decimal units, as download tools print them). */
export function formatBytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${i === 0 ? n.toFixed(0) : n.toFixed(1)} ${units[i]}`;
}

/** Runs `sbert download` with its arguments; resolves to the exit code (throws on failure). */
export async function runDownloadCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      revision: { type: 'string' },
      'cache-dir': { type: 'string' },
      token: { type: 'string' },
      offline: { type: 'boolean' },
      'no-progress': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(DOWNLOAD_USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    process.stderr.write(usageErrorText('download', `expected one model id (ORG/NAME), got ${positionals.length}`));
    return 2;
  }
  if (!isRepoId(positionals[0])) {
    process.stderr.write(usageErrorText('download', `${JSON.stringify(positionals[0])} is not a Hugging Face model id (ORG/NAME)`));
    return 2;
  }
  let bar: ProgressBar | undefined;
  const onProgress = (p: DownloadProgress): void => {
    if (values['no-progress'] || p.totalBytes === 0) return;
    bar ??= new ProgressBar(`downloading ${p.filesTotal} file${p.filesTotal === 1 ? '' : 's'}`, p.totalBytes, { unit: 'B', format: formatBytes });
    bar.update(p.bytes);
  };
  const dir = await downloadModel(positionals[0], {
    ...(values.revision !== undefined ? { revision: values.revision } : {}),
    ...(values['cache-dir'] !== undefined ? { cacheDir: values['cache-dir'] } : {}),
    ...(values.token !== undefined ? { token: values.token } : {}),
    ...(values.offline !== undefined ? { offline: values.offline } : {}),
    onProgress,
  });
  bar?.finish();
  process.stdout.write(`${dir}\n`);
  return 0;
}
