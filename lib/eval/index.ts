/**
 * STS evaluation (issue #8): bundled STS Benchmark / SICK-R / STS12–16 sets, Spearman and
 * Pearson, evaluation of any encoder with `encode(texts) → Embeddings`, the averaged-GloVe
 * baseline, and the `sbert eval` command.
 */
export { pearson, spearman, ranks, whyUndefined } from './stats';
export {
  loadStsTask,
  loadStsFile,
  defaultDataDir,
  isStsTaskName,
  taskTitle,
  STS_TASKS,
  PAPER_TASKS,
} from './datasets';
export type { StsPair, StsSubset, StsTask, StsTaskName, StsFileFormat, LoadTaskOptions } from './datasets';
export { evaluateSts, evaluateStsTask, predictSimilarities, correlate, cosineSimilarity } from './evaluate';
export type {
  StsEncoder,
  StsEncodeOptions,
  EvaluateStsOptions,
  StsResult,
  StsScoredResult,
  StsSubsetResult,
  StsTaskResult,
} from './evaluate';
export { GloveEncoder, GLOVE_PACKAGE, ENGLISH_STOP_WORDS } from './glove';
export type { GloveOptions } from './glove';
export { scatterSvg } from './plot';
export type { ScatterSeries, ScatterOptions } from './plot';
export { runEvalCommand, loadEncoder, EVAL_USAGE } from './cli';
export type { EvalIO } from './cli';
